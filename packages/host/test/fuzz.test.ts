/**
 * Fuzz test: a module that imports every host function of the host's import table (for ABI v0.2.1) and
 * calls them with random pointers, lengths, ids and enum values, from inside real callbacks. The host must
 * answer each call with a status code of the ABI (`proxy_*`) or a WASI errno, never throw, and never fail
 * the VM.
 *
 * How: the module is generated from the import table, so a host function added later is fuzzed too. Page 1
 * of its memory holds a "script" (function index + up to 12 arguments per entry) that the test writes before
 * each round; whichever callback runs next executes the script, storing each call's result next to it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type AbiVersion, IMPORT_TABLE, type ImportSpec, Status } from "@proxy-wasm-ts/host";
import {
  type PluginHarness,
  startPlugin,
  type TestHttpStream,
  type TestTcpStream,
} from "@proxy-wasm-ts/host/testing";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";

/** Override with FUZZ_SEED=<n> to explore further; a failure message names the seed, round and call. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2026);
const ROUNDS = 60;
const CALLS_PER_ROUND = 120;

const PAGE = 65536;
const MEMORY_PAGES = 3;
const SCRIPT = PAGE; // page 1: the script; page 0: scratch and allocator arena; page 2: junk near the end
const ENTRIES = SCRIPT + 16;
const ENTRY_SIZE = 112; // i32 function index, 12 × i64 arguments from +8, i32 result at +104
const MAX_ENTRIES = Math.floor((PAGE - 16) / ENTRY_SIZE);
const NOT_CALLED = 0x7eadbeef;

/** A fuzzed ABI version and the WASI module name its modules import from. */
interface FuzzTarget {
  abi: AbiVersion;
  wasi: "wasi_snapshot_preview1" | "wasi_unstable";
}

/** v0.2.1 with today's WASI name; v0.1.0 (its own four host functions) with the older `wasi_unstable`. */
const TARGETS: readonly FuzzTarget[] = [
  { abi: "0.2.1", wasi: "wasi_snapshot_preview1" },
  { abi: "0.1.0", wasi: "wasi_unstable" },
];

/**
 * Host functions fuzzed for a target: every one the import table offers that ABI version. `proc_exit` is
 * left out: it ends the plugin by design, as in cpp-host.
 */
function fuzzedFunctions(target: FuzzTarget): ImportSpec[] {
  return IMPORT_TABLE.filter(
    (spec) =>
      spec.abi.includes(target.abi) &&
      (spec.module === "env" || spec.module === target.wasi) &&
      spec.name !== "proc_exit",
  );
}

/** Module callbacks that run the script, with their parameter count and whether they return a value. */
const CALLBACKS: ReadonlyArray<[name: string, params: number, returns: boolean]> = [
  ["proxy_on_context_create", 2, false],
  ["proxy_on_vm_start", 2, true],
  ["proxy_on_configure", 2, true],
  ["proxy_on_tick", 1, false],
  ["proxy_on_request_headers", 3, true],
  ["proxy_on_request_body", 3, true],
  ["proxy_on_request_trailers", 2, true],
  ["proxy_on_response_headers", 3, true],
  ["proxy_on_response_body", 3, true],
  ["proxy_on_response_trailers", 2, true],
  ["proxy_on_log", 1, false],
  ["proxy_on_done", 1, true],
  ["proxy_on_delete", 1, false],
  ["proxy_on_new_connection", 1, true],
  ["proxy_on_downstream_data", 3, true],
  ["proxy_on_upstream_data", 3, true],
  ["proxy_on_downstream_connection_close", 2, false],
  ["proxy_on_upstream_connection_close", 2, false],
  ["proxy_on_http_call_response", 5, false],
  ["proxy_on_grpc_receive_initial_metadata", 3, false],
  ["proxy_on_grpc_receive", 3, false],
  ["proxy_on_grpc_receive_trailing_metadata", 3, false],
  ["proxy_on_grpc_close", 3, false],
  ["proxy_on_queue_ready", 2, false],
  ["proxy_on_foreign_function", 3, false],
];

/** WebAssembly text of the fuzz module. */
function fuzzModuleSource(target: FuzzTarget, fuzzed: readonly ImportSpec[]): string {
  const imports = fuzzed.map((spec, i) => {
    const params = spec.params.length ? ` (param ${spec.params.join(" ")})` : "";
    const results = spec.results.length ? ` (result ${spec.results.join(" ")})` : "";
    return `  (import "${spec.module}" "${spec.name}" (func $f${i}${params}${results}))`;
  });
  // One br_table case per host function: load its arguments from the entry, call, leave an i32 result.
  const labels = fuzzed.map((_, i) => `$case${i}`);
  let dispatch = `(br_table ${labels.join(" ")} $unknown (local.get $fn))`;
  fuzzed.forEach((spec, i) => {
    const args = spec.params
      .map((type, a) => {
        const load = `(i64.load offset=${8 + a * 8} (local.get $entry))`;
        return type === "i64" ? load : `(i32.wrap_i64 ${load})`;
      })
      .join(" ");
    const call = `(call $f${i} ${args})`;
    const body = spec.results.length ? `(return ${call})` : `${call} (return (i32.const 0))`;
    dispatch = `(block $case${i} ${dispatch})\n      ${body}`;
  });
  // v0.1.0 header callbacks have no end_of_stream parameter.
  const paramsOf = (name: string, params: number) =>
    target.abi === "0.1.0" && name.endsWith("_headers") ? params - 1 : params;
  const callbacks = CALLBACKS.map(([name, declared, returns]) => {
    const params = paramsOf(name, declared);
    const p = params ? ` (param${" i32".repeat(params)})` : "";
    return `  (func (export "${name}")${p}${returns ? " (result i32)" : ""} (call $run)${returns ? ` (i32.const ${name === "proxy_on_vm_start" || name === "proxy_on_configure" || name === "proxy_on_done" ? 1 : 0})` : ""})`;
  });
  return `(module
${imports.join("\n")}
  (memory (export "memory") ${MEMORY_PAGES})
  (global $arena (mut i32) (i32.const 1024))
  (global $running (mut i32) (i32.const 0))
  (func (export "proxy_abi_version_${target.abi.replaceAll(".", "_")}"))
  ;; Allocator for host-returned data: a wrap-around arena in page 0, so random calls never exhaust it.
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (if (i32.gt_u (local.get $size) (i32.const 32768)) (then (return (i32.const 0))))
    (if (i32.gt_u (i32.add (global.get $arena) (local.get $size)) (i32.const ${PAGE}))
      (then (global.set $arena (i32.const 1024))))
    (local.set $p (global.get $arena))
    (global.set $arena (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func $dispatch (param $fn i32) (param $entry i32) (result i32)
    (block $unknown
      ${dispatch})
    (i32.const ${NOT_CALLED}))
  ;; Runs the script once (nested callbacks do not re-run it), then marks it consumed.
  (func $run
    (local $i i32) (local $n i32) (local $entry i32)
    (if (global.get $running) (then (return)))
    (global.set $running (i32.const 1))
    (local.set $n (i32.load (i32.const ${SCRIPT})))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $entry (i32.add (i32.const ${ENTRIES}) (i32.mul (local.get $i) (i32.const ${ENTRY_SIZE}))))
        (i32.store offset=104 (local.get $entry) (call $dispatch (i32.load (local.get $entry)) (local.get $entry)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const ${SCRIPT}) (i32.const 0))
    (global.set $running (i32.const 0)))
${callbacks.join("\n")}
)`;
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random i32 argument, biased towards values that reach interesting paths. */
/**
 * Offsets in page 0 where each round writes structured input: a well-formed serialized map, a map claiming
 * a huge pair count, and a NUL-separated property path. Pointers land on them often enough to get past
 * the hostcalls' parsing into their real work.
 */
const STRUCTURES = { map: 256, hostileMap: 640, path: 896 } as const;
const STRUCTURE_OFFSETS = Object.values(STRUCTURES);

function randomI32(random: () => number, memoryBytes: number): number {
  const pick = random();
  const below = (n: number) => Math.floor(random() * n);
  if (pick < 0.1) return STRUCTURE_OFFSETS[below(STRUCTURE_OFFSETS.length)]!;
  if (pick < 0.25) return below(12); // enum values, ids, small sizes, null
  if (pick < 0.5) return below(1024); // scratch pointers and modest lengths (page 0, never the script)
  if (pick < 0.6) return memoryBytes - below(16); // straddling the end of memory
  if (pick < 0.75) return memoryBytes + below(0x7fff_ffff); // out of bounds
  if (pick < 0.85) return [0xffff_ffff, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe][below(4)]!;
  return below(0x1_0000_0000);
}

function randomI64(random: () => number): bigint {
  const pick = random();
  if (pick < 0.3) return BigInt(Math.floor(random() * 100) - 50);
  if (pick < 0.4) return [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)][Math.floor(random() * 4)]!;
  return BigInt.asIntN(
    64,
    (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32)),
  );
}

const VALID_STATUSES = new Set<number>(Object.values(Status));
/** WASI preview1 errno values run from 0 (SUCCESS) to 76 (NOTCAPABLE). */
const MAX_WASI_ERRNO = 76;

/** Fills page 0's scratch area with random bytes and the structured inputs of {@link STRUCTURES}. */
function writeScratch(memory: WebAssembly.Memory, random: () => number): void {
  const bytes = new Uint8Array(memory.buffer, 0, 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  const encoder = new TextEncoder();
  const pairs = Array.from({ length: Math.floor(random() * 4) }, (_, i) => [
    encoder.encode([":path", ":authority", ":method", "x-fuzz"][i]!),
    encoder.encode(["/", "fuzz.local", "GET", "\u00ff"][i]!),
  ]);
  const view = new DataView(memory.buffer);
  let at = STRUCTURES.map;
  view.setUint32(at, pairs.length, true);
  at += 4;
  for (const [k, v] of pairs) {
    view.setUint32(at, k!.length, true);
    view.setUint32(at + 4, v!.length, true);
    at += 8;
  }
  for (const [k, v] of pairs) {
    bytes.set(k!, at);
    bytes[at + k!.length] = 0;
    at += k!.length + 1;
    bytes.set(v!, at);
    bytes[at + v!.length] = 0;
    at += v!.length + 1;
  }
  view.setUint32(STRUCTURES.hostileMap, 0x4000_0000 + Math.floor(random() * 1000), true);
  bytes.set(
    encoder.encode(
      ["source\0address", "request\0headers\0:path", "node\0metadata", "plugin_name"][
        Math.floor(random() * 4)
      ]!,
    ),
    STRUCTURES.path,
  );
}

/** Writes a round's script into guest memory; returns what was written, for messages. */
function writeScript(
  memory: WebAssembly.Memory,
  fuzzed: readonly ImportSpec[],
  random: () => number,
): Array<{ spec: ImportSpec; args: string }> {
  const view = new DataView(memory.buffer);
  const calls: Array<{ spec: ImportSpec; args: string }> = [];
  for (let i = 0; i < CALLS_PER_ROUND; i++) {
    const fn = Math.floor(random() * fuzzed.length);
    const spec = fuzzed[fn]!;
    const entry = ENTRIES + i * ENTRY_SIZE;
    view.setInt32(entry, fn, true);
    const args = spec.params.map((type, a) => {
      const value = type === "i64" ? randomI64(random) : BigInt(randomI32(random, memory.buffer.byteLength));
      view.setBigInt64(entry + 8 + a * 8, BigInt.asIntN(64, value), true);
      return value.toString();
    });
    view.setInt32(entry + 104, NOT_CALLED, true);
    calls.push({ spec, args: args.join(", ") });
  }
  view.setInt32(SCRIPT, CALLS_PER_ROUND, true);
  return calls;
}

const REQUEST: Array<[string, string]> = [
  [":method", "POST"],
  [":path", "/fuzz"],
  [":authority", "fuzz.local"],
];

/** Steps of an HTTP stream, in order; each runs one callback in stream context. */
const HTTP_STEPS: ReadonlyArray<(http: TestHttpStream) => unknown> = [
  (h) => h.requestHeaders(REQUEST),
  (h) => h.requestBody("chunk-1"),
  (h) => h.requestBody("chunk-2", true),
  (h) => h.requestTrailers([["x-trailer", "1"]]),
  (h) => h.responseHeaders([[":status", "200"]]),
  (h) => h.responseBody("response", true),
  (h) => h.responseTrailers([["grpc-status", "0"]]),
  (h) => h.complete(),
];

/** Steps of a TCP connection. */
const TCP_STEPS: ReadonlyArray<(tcp: TestTcpStream) => unknown> = [
  (c) => c.newConnection(),
  (c) => c.downstreamData("client bytes"),
  (c) => c.upstreamData("server bytes"),
  (c) => c.closeDownstream(),
  (c) => c.closeUpstream(),
  (c) => c.complete(),
];

test("the fuzz modules cover every host function of the import table", () => {
  for (const target of TARGETS) {
    const fuzzed = fuzzedFunctions(target);
    const bytes = compileWat(fuzzModuleSource(target, fuzzed), "fuzz.wat");
    const imported = WebAssembly.Module.imports(new WebAssembly.Module(bytes)).map(
      (i) => `${i.module}.${i.name}`,
    );
    const expected = IMPORT_TABLE.filter((s) => s.abi.includes(target.abi) && s.module !== "wasi_unstable")
      .filter((s) => s.name !== "proc_exit")
      .map((s) => `${s.module === "env" ? "env" : target.wasi}.${s.name}`);
    assert.deepEqual(imported.sort(), expected.sort(), `ABI ${target.abi}`);
  }
  const v021 = fuzzedFunctions(TARGETS[0]!).filter((s) => s.module === "env" && s.inSpec).length;
  assert.equal(v021, 39, "all 39 proxy_* host functions of the spec are fuzzed");
  const v010Only = fuzzedFunctions(TARGETS[1]!)
    .filter((s) => s.abi.length === 1)
    .map((s) => s.name);
  assert.deepEqual(v010Only.sort(), [
    "proxy_clear_route_cache",
    "proxy_continue_request",
    "proxy_continue_response",
    "proxy_get_configuration",
  ]);
  assert.ok(MAX_ENTRIES >= CALLS_PER_ROUND);
});

for (const target of TARGETS) {
  test(`ABI ${target.abi}: every host function answers random arguments with a valid status (seed ${SEED})`, {
    timeout: 120_000,
  }, async () => {
    const fuzzed = fuzzedFunctions(target);
    const t: PluginHarness = await startPlugin(compileWat(fuzzModuleSource(target, fuzzed), "fuzz.wat"), {
      name: "fuzz",
      vmId: "fuzz-vm",
      configuration: "fuzz",
      foreignFunctions: { fuzz_echo: ({ args }) => ({ status: Status.Ok, result: args }) },
    });
    assert.equal(t.plugin.module.abiVersion, target.abi);
    const random = prng(SEED);
    let http: TestHttpStream | null = null;
    let httpStep = 0;
    let tcp: TestTcpStream | null = null;
    let tcpStep = 0;
    const called = new Set<string>();

    for (let round = 0; round < ROUNDS; round++) {
      // Open any stream first: opening runs proxy_on_context_create, which must not consume the script.
      const kind = random();
      if (kind < 0.6 && http === null) {
        http = t.http({ "source.address": "10.0.0.1:1234" });
        httpStep = 0;
      } else if (kind >= 0.6 && kind < 0.75 && tcp === null) {
        tcp = t.tcp({ "source.address": "10.0.0.2:4321" });
        tcpStep = 0;
      }
      const memory = t.plugin.vm.memory;
      writeScratch(memory, random);
      const calls = writeScript(memory, fuzzed, random);

      if (kind < 0.6 && http) {
        HTTP_STEPS[httpStep++]!(http);
        if (httpStep === HTTP_STEPS.length) http = null;
      } else if (kind < 0.75 && tcp) {
        TCP_STEPS[tcpStep++]!(tcp);
        if (tcpStep === TCP_STEPS.length) tcp = null;
      } else if (kind < 0.85) {
        t.callOnForeignFunction(round, "fuzz arguments");
      } else if (kind < 0.92 && t.upstream.pendingHttpCalls.length > 0) {
        t.upstream.pendingHttpCalls[0]!.respond({ headers: [[":status", "200"]], body: "answer" });
      } else {
        t.tick();
      }
      // A stream the plugin ended (local reply, close) calls no more callbacks; a tick always runs.
      const view = () => new DataView(memory.buffer);
      if (view().getInt32(SCRIPT, true) !== 0) t.tick();
      const at = `ABI ${target.abi} seed ${SEED} round ${round}`;
      assert.equal(view().getInt32(SCRIPT, true), 0, `${at}: the script did not run`);

      calls.forEach(({ spec, args }, i) => {
        const result = view().getInt32(ENTRIES + i * ENTRY_SIZE + 104, true);
        const where = `${at} call ${i}: ${spec.module}.${spec.name}(${args}) returned ${result}`;
        assert.notEqual(result, NOT_CALLED, `${where}: not called`);
        if (spec.module === "env") assert.ok(VALID_STATUSES.has(result), `${where}: not a proxy_status_t`);
        else assert.ok(result >= 0 && result <= MAX_WASI_ERRNO, `${where}: not a WASI errno`);
        called.add(`${spec.module}.${spec.name}`);
      });
      assert.equal(t.plugin.failed, false, `${at}: the VM failed: ${t.plugin.failures[0]?.error}`);
    }
    assert.equal(called.size, fuzzed.length, "every host function was called at least once");
    http?.complete();
    tcp?.complete();
    t.shutdown();
  });
}
