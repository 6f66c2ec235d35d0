/** WASI preview1 functions as cpp-host provides them: success and error paths. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WasiErrno } from "../src/types.ts";
import { startAbiHarness } from "./support/abi-module.ts";

const opts = { timeout: 30_000 };
const W = (name: string) => `wasi_snapshot_preview1.${name}`;

test("fd_write: stdout -> info, stderr -> error, trailing newline dropped; BADF; FAULT", opts, async () => {
  const t = await startAbiHarness({ name: "w" });
  const [a, al] = t.put("hello ");
  const [b, bl] = t.put("world\n");
  const iov = t.put(new Uint8Array(new Uint32Array([a, al, b, bl]).buffer))[0];
  const written = t.out();
  t.inContext(t.harness.plugin.root, () => {
    assert.equal(t.call(W("fd_write"), 1, iov, 2, written), WasiErrno.Success);
    assert.equal(t.u32(written), 12);
    assert.equal(t.call(W("fd_write"), 2, iov, 1, written), WasiErrno.Success);
    assert.equal(t.call(W("fd_write"), 3, iov, 1, written), WasiErrno.Badf);
    assert.equal(t.call(W("fd_write"), 1, t.badPointer, 1, written), WasiErrno.Fault);
    const badIov = t.put(new Uint8Array(new Uint32Array([t.badPointer, 4]).buffer))[0];
    assert.equal(t.call(W("fd_write"), 1, badIov, 1, written), WasiErrno.Fault);
    assert.equal(t.call(W("fd_write"), 1, iov, 1, t.badPointer), WasiErrno.Fault);
  });
  assert.deepEqual(t.harness.logs("info"), ["hello world"]);
  assert.deepEqual(t.harness.logs("error"), ["hello "]);
});

test("clock_time_get: realtime and monotonic; NOTSUP; FAULT. clock_res_get", opts, async () => {
  const t = await startAbiHarness();
  const out = t.out();
  assert.equal(t.call(W("clock_time_get"), 0, 1n, out), WasiErrno.Success);
  assert.equal(t.u64(out), BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n);
  t.harness.advance(5);
  assert.equal(t.call(W("clock_time_get"), 1, 1n, out), WasiErrno.Success);
  assert.equal(t.u64(out), 5_000_000n);
  assert.equal(t.call(W("clock_time_get"), 2, 1n, out), WasiErrno.Notsup);
  assert.equal(t.call(W("clock_time_get"), 0, 1n, t.badPointer), WasiErrno.Fault);
  assert.equal(t.call(W("clock_res_get"), 0, out), WasiErrno.Success);
  assert.equal(t.call(W("clock_res_get"), 9, out), WasiErrno.Notsup);
});

test("random_get: fills the buffer; INVAL over 64 KiB; FAULT", opts, async () => {
  const t = await startAbiHarness();
  const buf = t.out(64);
  assert.equal(t.call(W("random_get"), buf, 64), WasiErrno.Success);
  assert.ok(t.bytes(buf, 64).some((b) => b !== 0));
  assert.equal(t.call(W("random_get"), 8192, 64 * 1024 + 1), WasiErrno.Inval);
  assert.equal(t.call(W("random_get"), t.badPointer, 1), WasiErrno.Fault);
});

test("environ_sizes_get / environ_get: the plugin's environment variables; FAULT", opts, async () => {
  const t = await startAbiHarness({ environment: { A: "1", LONG: "xyz" } });
  const count = t.out();
  const size = t.out();
  assert.equal(t.call(W("environ_sizes_get"), count, size), WasiErrno.Success);
  assert.equal(t.u32(count), 2);
  assert.equal(t.u32(size), "A=1\0LONG=xyz\0".length);
  const array = t.out(8);
  const buffer = t.out(32);
  assert.equal(t.call(W("environ_get"), array, buffer), WasiErrno.Success);
  assert.equal(new TextDecoder().decode(t.bytes(t.u32(array), 4)), "A=1\0");
  assert.equal(new TextDecoder().decode(t.bytes(t.u32(array + 4), 9)), "LONG=xyz\0");
  assert.equal(t.call(W("environ_sizes_get"), t.badPointer, size), WasiErrno.Fault);
  assert.equal(t.call(W("environ_get"), t.badPointer, buffer), WasiErrno.Fault);
});

test("args, fds, files and scheduling answer like cpp-host", opts, async () => {
  const t = await startAbiHarness();
  const a = t.out();
  const b = t.out();
  assert.equal(t.call(W("args_sizes_get"), a, b), WasiErrno.Success);
  assert.deepEqual([t.u32(a), t.u32(b)], [0, 0]);
  assert.equal(t.call(W("args_sizes_get"), t.badPointer, b), WasiErrno.Fault);
  assert.equal(t.call(W("args_get"), a, b), WasiErrno.Success);
  assert.equal(t.call(W("fd_read"), 0, a, 1, b), WasiErrno.Nosys);
  const stat = t.out(24);
  assert.equal(t.call(W("fd_fdstat_get"), 1, stat), WasiErrno.Success);
  assert.equal(t.bytes(stat, 24)[8], 64);
  assert.equal(t.call(W("fd_fdstat_get"), 5, stat), WasiErrno.Badf);
  assert.equal(t.call(W("fd_fdstat_get"), 1, t.badPointer), WasiErrno.Fault);
  assert.equal(t.call(W("fd_prestat_get"), 3, a), WasiErrno.Badf);
  assert.equal(t.call(W("path_open"), 3, 0, 0, 0, 0, 0n, 0n, 0, a), WasiErrno.Nosys);
  assert.equal(t.call(W("sched_yield")), WasiErrno.Success);
  assert.equal(t.call(W("fd_seek"), 1, 0n, 0, a), WasiErrno.Success);
  assert.equal(t.call(W("fd_close"), 1), WasiErrno.Success);
  assert.equal(t.call("pthread_equal", 3, 3), 1);
  assert.equal(t.call("pthread_equal", 3, 4), 0);
});

test("proc_exit unwinds the guest call it was made from", opts, async () => {
  const t = await startAbiHarness();
  assert.throws(() => t.call(W("proc_exit"), 3), /proc_exit\(3\)/);
});
