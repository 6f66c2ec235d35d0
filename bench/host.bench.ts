/**
 * Host costs: one hostcall round trip (a header read) and one whole HTTP stream, each against a baseline
 * that does the same guest work with the host taken out.
 *
 * - header read: the guest calls `proxy_get_header_map_value` N times in a loop inside
 *   `proxy_on_request_headers`; ns per read = time / N. Baseline: the same guest loop in the same module,
 *   instantiated with a JS import that does nothing, called directly.
 * - whole stream: a no-op plugin (every callback exported, none does anything) through the whole HTTP
 *   stream in the test harness (`@proxy-wasm-ts/host/testing`): context create, request headers, body,
 *   trailers, response headers, body, trailers, done, log, delete. Also measured on the embedder API the
 *   local data plane uses (`Plugin.newHttpStream`), without the harness's recording. Baseline: the same ten
 *   export calls made directly on an instance with no host.
 *
 * Figures are CPU time per call (process.cpuUsage), not wall time: this machine's two cores are shared, and
 * wall time would mostly measure waiting for a core.
 */
import type { Plugin } from "@proxy-wasm-ts/host";
import { type PluginHarness, startPlugin } from "@proxy-wasm-ts/host/testing";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";
import { cpuNsPerCall, cpuNsPerOperation, defineSuite } from "./benchmark.ts";

const READS_PER_SAMPLE = 1_000_000;
const STREAMS_PER_SAMPLE = 20_000;
// The baselines are ~50× cheaper per call: more calls keep their samples well above CPU-clock granularity.
const BASELINE_READS_PER_SAMPLE = 20_000_000;
const BASELINE_STREAMS_PER_SAMPLE = 1_000_000;

const REQUEST_HEADERS: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/bench"],
  [":authority", "bench.local"],
  [":scheme", "http"],
  ["user-agent", "proxy-wasm-ts-bench/1"],
  ["accept", "*/*"],
];
const RESPONSE_HEADERS: Array<[string, string]> = [
  [":status", "200"],
  ["content-type", "text/plain"],
];

/** The guest loop shared by the header-read case and its baseline. */
const headerReadModule = `(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "user-agent")
  (global $iterations (mut i32) (i32.const 0))
  (func (export "proxy_abi_version_0_2_1"))
  ;;  Values are small; the host copies each into this fixed scratch block (a real SDK would free it).
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  (func (export "set_iterations") (param i32) (global.set $iterations (local.get 0)))
  (func $read_loop (export "read_loop") (param $n i32) (result i32)
    (local $failures i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $failures (i32.add (local.get $failures)
          (call $get (i32.const 0) (i32.const 16) (i32.const 10) (i32.const 1024) (i32.const 1028))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $failures))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (call $read_loop (global.get $iterations)) (then unreachable))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32)))`;

/** Every HTTP callback, each doing nothing. */
const noOpModule = `(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_request_trailers") (param i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_trailers") (param i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32)))`;

type Exports = Record<string, (...args: number[]) => number>;

let headerPlugin: PluginHarness;
let setIterations: (n: number) => void;
let baselineReadLoop: (n: number) => number;
let noOpPlugin: PluginHarness;
let rawNoOp: Exports;

/** The phases of one HTTP stream, on the harness's stream or the embedder's (same method names). */
interface StreamPhases {
  requestHeaders(headers: Array<[string, string]>): unknown;
  requestBody(chunk: string, endOfStream: boolean): unknown;
  requestTrailers(trailers: Array<[string, string]>): unknown;
  responseHeaders(headers: Array<[string, string]>): unknown;
  responseBody(chunk: string, endOfStream: boolean): unknown;
  responseTrailers(trailers: Array<[string, string]>): unknown;
  complete(): void;
}

function runStream(stream: StreamPhases): void {
  stream.requestHeaders(REQUEST_HEADERS);
  stream.requestBody("ping", true);
  stream.requestTrailers([["x-checksum", "1"]]);
  stream.responseHeaders(RESPONSE_HEADERS);
  stream.responseBody("pong", true);
  stream.responseTrailers([["grpc-status", "0"]]);
  stream.complete();
}

function assertHealthy(plugin: Plugin, what: string): void {
  if (plugin.failed) throw new Error(`${what} plugin failed: ${plugin.failures[0]?.error.message}`);
}

export default defineSuite({
  name: "host",
  runs: 9,
  description:
    "Cost of one hostcall round trip (proxy_get_header_map_value from a guest loop) and of one whole HTTP " +
    "stream through the host with a no-op plugin, each against the same guest work without the host.",
  async setup() {
    const headerBytes = compileWat(headerReadModule, "header-read.wat");
    headerPlugin = await startPlugin(headerBytes, { name: "bench-header-read" });
    setIterations = (n) => {
      (headerPlugin.plugin.vm.instance.exports as Exports).set_iterations!(n);
    };
    const baseline = new WebAssembly.Instance(new WebAssembly.Module(headerBytes), {
      env: { proxy_get_header_map_value: () => 0 },
    });
    baselineReadLoop = (baseline.exports as Exports).read_loop!;

    const noOpBytes = compileWat(noOpModule, "no-op.wat");
    noOpPlugin = await startPlugin(noOpBytes, { name: "bench-no-op" });
    rawNoOp = new WebAssembly.Instance(new WebAssembly.Module(noOpBytes), {}).exports as Exports;

    // Check that the measured paths do what they claim before timing them.
    setIterations(3);
    const check = headerPlugin.http();
    check.requestHeaders(REQUEST_HEADERS);
    assertHealthy(headerPlugin.plugin, "header-read (a read did not return OK)");
    check.complete();
    runStream(noOpPlugin.http());
    runStream(noOpPlugin.plugin.newHttpStream());
    assertHealthy(noOpPlugin.plugin, "no-op");
  },
  teardown() {
    headerPlugin?.shutdown();
    noOpPlugin?.shutdown();
  },
  cases: [
    {
      name: "baseline: guest loop calling a no-op JS import",
      unit: "CPU ns/call",
      sample: () =>
        cpuNsPerOperation(BASELINE_READS_PER_SAMPLE, () => baselineReadLoop(BASELINE_READS_PER_SAMPLE)),
    },
    {
      name: "header read: proxy_get_header_map_value",
      unit: "CPU ns/call",
      baseline: "baseline: guest loop calling a no-op JS import",
      target: 150,
      sample: () => {
        setIterations(READS_PER_SAMPLE);
        const stream = headerPlugin.http();
        const ns = cpuNsPerOperation(READS_PER_SAMPLE, () => stream.requestHeaders(REQUEST_HEADERS));
        stream.complete();
        assertHealthy(headerPlugin.plugin, "header-read");
        return ns;
      },
    },
    {
      name: "baseline: the ten stream callbacks called directly",
      unit: "CPU ns/stream",
      sample: () => {
        let id = 1_000;
        return cpuNsPerCall(BASELINE_STREAMS_PER_SAMPLE, () => {
          id++;
          rawNoOp.proxy_on_context_create!(id, 1);
          rawNoOp.proxy_on_request_headers!(id, 6, 0);
          rawNoOp.proxy_on_request_body!(id, 4, 1);
          rawNoOp.proxy_on_request_trailers!(id, 1);
          rawNoOp.proxy_on_response_headers!(id, 2, 0);
          rawNoOp.proxy_on_response_body!(id, 4, 1);
          rawNoOp.proxy_on_response_trailers!(id, 1);
          rawNoOp.proxy_on_done!(id);
          rawNoOp.proxy_on_log!(id);
          rawNoOp.proxy_on_delete!(id);
        });
      },
    },
    {
      name: "whole HTTP stream, no-op plugin, test harness",
      unit: "CPU ns/stream",
      baseline: "baseline: the ten stream callbacks called directly",
      target: 5_000,
      sample: () => {
        const ns = cpuNsPerCall(STREAMS_PER_SAMPLE, () => runStream(noOpPlugin.http()));
        assertHealthy(noOpPlugin.plugin, "no-op");
        return ns;
      },
    },
    {
      name: "whole HTTP stream, no-op plugin, embedder API",
      unit: "CPU ns/stream",
      baseline: "baseline: the ten stream callbacks called directly",
      sample: () => {
        const ns = cpuNsPerCall(STREAMS_PER_SAMPLE, () => runStream(noOpPlugin.plugin.newHttpStream()));
        assertHealthy(noOpPlugin.plugin, "no-op");
        return ns;
      },
    },
  ],
});
