/** Module loading, start-up, memory safety, re-entrant allocation and trace mode. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";
import { ModuleLoadError, ProxyWasmModule } from "../src/module.ts";
import { startPlugin } from "../src/testing/index.ts";
import { Action, Status } from "../src/types.ts";

const opts = { timeout: 30_000 };
const BASE = `
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap)) (global.set $heap (i32.add (local.get $p) (local.get $n))) (local.get $p))`;

test(
  "ABI version detection, and clear load errors for unknown imports and missing pieces",
  opts,
  async () => {
    for (const [marker, version] of [
      ["proxy_abi_version_0_2_1", "0.2.1"],
      ["proxy_abi_version_0_2_0", "0.2.0"],
      ["proxy_abi_version_0_1_0", "0.1.0"],
    ] as const) {
      const m = await ProxyWasmModule.load(compileWat(`(module ${BASE} (func (export "${marker}")))`));
      assert.equal(m.abiVersion, version);
    }
    await assert.rejects(
      ProxyWasmModule.load(compileWat(`(module ${BASE})`)),
      /missing or unknown Proxy-Wasm ABI version/,
    );
    await assert.rejects(
      ProxyWasmModule.load(
        compileWat(
          `(module (import "env" "seed" (func (result f64))) ${BASE} (func (export "proxy_abi_version_0_2_1")))`,
        ),
      ),
      (err: Error) => err instanceof ModuleLoadError && /unknown import env\.seed/.test(err.message),
    );
    await assert.rejects(
      ProxyWasmModule.load(
        compileWat(
          `(module (import "env" "proxy_clear_route_cache" (func (result i32))) ${BASE} (func (export "proxy_abi_version_0_2_1")))`,
        ),
      ),
      /proxy_clear_route_cache is not provided to ABI 0\.2\.1 modules/,
    );
    await assert.rejects(
      ProxyWasmModule.load(
        compileWat(`(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1")))`),
      ),
      /missing malloc function/,
    );
    await assert.rejects(
      ProxyWasmModule.load(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])),
      /not a valid WebAssembly module/,
    );
    await assert.rejects(
      ProxyWasmModule.load("/nonexistent/plugin.wasm"),
      /cannot read plugin module \/nonexistent/,
    );
  },
);

test(
  "an import declared with the wrong signature fails the load, as Envoy's import type mismatch",
  opts,
  async () => {
    const withImport = (signature: string) =>
      compileWat(
        `(module (import "env" "proxy_grpc_call" (func ${signature})) ${BASE} (func (export "proxy_abi_version_0_2_1")))`,
      );
    // @gcoredev/proxy-wasm-sdk-as declares proxy_grpc_call without the initial-metadata pair: 10 parameters.
    const ten = "(param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)";
    await assert.rejects(ProxyWasmModule.load(withImport(ten)), (err: Error) => {
      assert.ok(err instanceof ModuleLoadError, String(err));
      assert.equal(
        err.message,
        `import env.proxy_grpc_call has the wrong signature: the module declares (${"i32, ".repeat(9)}i32) -> (i32), ` +
          `the host (and Envoy) provide (${"i32, ".repeat(11)}i32) -> (i32) (Envoy: "import type mismatch")`,
      );
      return true;
    });
    // The result type counts too: the same 12 parameters without the status result are refused.
    await assert.rejects(
      ProxyWasmModule.load(withImport(`(param ${"i32 ".repeat(12)})`)),
      /env\.proxy_grpc_call has the wrong signature: the module declares \((i32, ){11}i32\) -> \(\), /,
    );
    // i64 where the ABI has i32 (a 64-bit pointer width mistake).
    await assert.rejects(
      ProxyWasmModule.load(
        compileWat(
          `(module (import "env" "proxy_log" (func (param i32 i64 i32) (result i32))) ${BASE} (func (export "proxy_abi_version_0_2_1")))`,
        ),
      ),
      /env\.proxy_log has the wrong signature: the module declares \(i32, i64, i32\) -> \(i32\)/,
    );
    const correct = await ProxyWasmModule.load(withImport(`(param ${"i32 ".repeat(12)}) (result i32)`));
    assert.deepEqual(
      correct.importSpecs.map((spec) => spec.name),
      ["proxy_grpc_call"],
    );
  },
);

test(
  "start-up: _start runs when there is no _initialize, and proc_exit(0) there is a normal end",
  opts,
  async () => {
    const wat = `(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    ${BASE}
    (data (i32.const 100) "started")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "_start") (drop (call $log (i32.const 2) (i32.const 100) (i32.const 7))) (call $exit (i32.const 0)))
    (func (export "proxy_on_tick") (param i32) (call $exit (i32.const 2))))`;
    const t = await startPlugin(compileWat(wat));
    assert.deepEqual(
      t.testHost.logEntries.map((e) => e.message),
      ["started"],
    );
    assert.equal(t.plugin.failed, false);
    t.tick();
    assert.equal(t.plugin.failed, true, "proc_exit inside a callback fails the VM");
    assert.match(t.plugin.failures[0]!.error.message, /proc_exit\(2\)/);
  },
);

test("memory growth is capped by the configured limit", opts, async () => {
  const wat = `(module ${BASE}
    (global $grew (export "grew") (mut i32) (i32.const 0))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_tick") (param i32) (global.set $grew (memory.grow (i32.const 10)))))`;
  const small = await startPlugin(compileWat(wat), { memoryLimitBytes: 4 * 65536 });
  small.tick();
  assert.equal(
    (small.plugin.vm.instance.exports.grew as { value: number }).value,
    -1,
    "grow past the cap fails",
  );
  const big = await startPlugin(compileWat(wat), { memoryLimitBytes: 64 * 65536 });
  big.tick();
  assert.equal((big.plugin.vm.instance.exports.grew as { value: number }).value, 1);
  await assert.rejects(
    startPlugin(
      compileWat(
        `(module (memory (export "memory") 8) ${BASE.replace('(memory (export "memory") 1)', "")} (func (export "proxy_abi_version_0_2_1")))`,
      ),
      {
        memoryLimitBytes: 4 * 65536,
      },
    ),
    /needs 8 memory pages at start, over the memory limit of 4 pages/,
  );
});

test(
  "re-entrant allocation: a malloc that logs and grows memory during a hostcall is safe",
  opts,
  async () => {
    const wat = `(module
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 100) "malloc")
    (data (i32.const 120) "k")
    (global $status (export "status") (mut i32) (i32.const -1))
    (func (export "malloc") (param $n i32) (result i32) (local $p i32)
      (drop (call $log (i32.const 1) (i32.const 100) (i32.const 6)))
      ;; always hand out fresh memory at the end, growing by a page first
      (local.set $p (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
      (local.get $p))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (global.set $status (call $get (i32.const 0) (i32.const 120) (i32.const 1) (i32.const 200) (i32.const 204)))
      (i32.const 0)))`;
    const t = await startPlugin(compileWat(wat));
    const http = t.http();
    assert.equal(http.requestHeaders([["k", "value-bytes"]]), Action.Continue);
    const vm = t.plugin.vm;
    assert.equal((vm.instance.exports.status as { value: number }).value, Status.Ok);
    const ptr = vm.readU32(200)!;
    assert.equal(ptr, 65536, "the block is in the page malloc grew");
    assert.equal(new TextDecoder().decode(vm.read(ptr, vm.readU32(204)!)!), "value-bytes");
    assert.deepEqual(t.logs("debug"), ["malloc"]);
  },
);

test(
  "a malloc that returns 0 or traps gives INVALID_MEMORY_ACCESS (a trap also fails the VM)",
  opts,
  async () => {
    const wat = (body: string) => `(module
    (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 120) "k")
    (global $status (export "status") (mut i32) (i32.const -1))
    (func (export "malloc") (param i32) (result i32) ${body})
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (global.set $status (call $get (i32.const 0) (i32.const 120) (i32.const 1) (i32.const 200) (i32.const 204)))
      (i32.const 0)))`;
    const zero = await startPlugin(compileWat(wat("(i32.const 0)")));
    zero.http().requestHeaders([["k", "v"]]);
    assert.equal(
      (zero.plugin.vm.instance.exports.status as { value: number }).value,
      Status.InvalidMemoryAccess,
    );
    assert.equal(zero.plugin.failed, false);
    const trap = await startPlugin(compileWat(wat("unreachable")), { failurePolicy: "FAIL_OPEN" });
    trap.http().requestHeaders([["k", "v"]]);
    assert.equal(
      (trap.plugin.vm.instance.exports.status as { value: number }).value,
      Status.InvalidMemoryAccess,
    );
    assert.equal(trap.plugin.failed, true);
    assert.equal(trap.plugin.failures[0]!.callback, "malloc");
  },
);

test("trace mode logs every hostcall with its arguments and result", opts, async () => {
  const wat = `(module
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    ${BASE}
    (data (i32.const 100) "hi")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_tick") (param i32) (drop (call $log (i32.const 2) (i32.const 100) (i32.const 2)))
      (drop (call $log (i32.const 9) (i32.const 100) (i32.const 2)))))`;
  const t = await startPlugin(compileWat(wat), { trace: true });
  t.traceLines.length = 0;
  t.tick();
  assert.deepEqual(t.traceLines, [
    `[host->vm] proxy_on_tick(${t.plugin.root.id})`,
    "[vm->host] env.proxy_log(2, 100, 2)",
    "[vm<-host] env.proxy_log return: 0",
    "[vm->host] env.proxy_log(9, 100, 2)",
    "[vm<-host] env.proxy_log return: 2",
  ]);
});
