/**
 * The SDK against @gcoredev/proxy-wasm-sdk-as (G-Core's fork of solo-io/proxy-runtime), on the same
 * header-mutating plugin: on the request it replaces `x-forwarded-by` and removes `x-debug`, on the
 * response it replaces `x-powered-by`.
 *
 * Each side is built twice, the same way on both sides: a size build (`pwts build --optimize size`: asc
 * -O3 --shrinkLevel 2 --converge, then the same binaryen size pass) and a speed build (the default: asc
 * -O3 --shrinkLevel 0 --converge, no further pass). Theirs needs the incremental runtime and
 * @assemblyscript/wasi-shim, as its README asks.
 *
 * - module size in bytes, of the size builds (target: ours ≤ 8 KiB raw, and smaller than theirs).
 * - per-request cost in the host harness, of the speed builds: context create, request headers, response
 *   headers, done, log, delete; ns per stream (target: ours no slower than theirs); and our size build
 *   against our speed build, the price of the smaller module.
 * - guest memory after 20,000 streams (speed builds) for our runtime choices (minimal, the default;
 *   incremental; stub) and theirs; size and ns per stream of the incremental runtime against our default
 *   (minimal).
 */

import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type PluginHarness, startPlugin } from "@proxy-wasm-ts/host/testing";
import { compilePlugin, type OptimizeGoal } from "../packages/sdk/src/compile.ts";
import { optimizeForSize } from "../packages/sdk/src/optimize.ts";
import { defineSuite, nsPerOperation } from "./benchmark.ts";

const STREAMS_PER_SAMPLE = 2_000;
const MEMORY_STREAMS = 20_000;
const WORK_DIR = fileURLToPath(new URL("../packages/sdk/build/bench/", import.meta.url));

const OURS = `export * from "@proxy-wasm-ts/sdk/assembly/exports";
import { Action, HttpContext, RootContext, registerRootContext, requestHeaders, responseHeaders } from "@proxy-wasm-ts/sdk/assembly";
class Mutate extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): Action {
    requestHeaders.set("x-forwarded-by", "proxy-wasm-ts");
    requestHeaders.remove("x-debug");
    return Action.Continue;
  }
  onResponseHeaders(headerCount: u32, endOfStream: bool): Action {
    responseHeaders.set("x-powered-by", "proxy-wasm-ts");
    return Action.Continue;
  }
}
class Root extends RootContext {
  createHttpContext(contextId: u32): HttpContext | null {
    return new Mutate(contextId, this);
  }
}
registerRootContext((contextId: u32): RootContext => new Root(contextId));
`;

const THEIRS = `export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import { Context, FilterHeadersStatusValues, RootContext, registerRootContext, stream_context } from "@gcoredev/proxy-wasm-sdk-as/assembly";
class Root extends RootContext {
  createContext(context_id: u32): Context {
    return new Mutate(context_id, this);
  }
}
class Mutate extends Context {
  constructor(context_id: u32, root_context: Root) {
    super(context_id, root_context);
  }
  onRequestHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.request.replace("x-forwarded-by", "proxy-wasm-ts");
    stream_context.headers.request.remove("x-debug");
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.replace("x-powered-by", "proxy-wasm-ts");
    return FilterHeadersStatusValues.Continue;
  }
}
registerRootContext((context_id: u32) => {
  return new Root(context_id);
}, "");
`;

const REQUEST: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/bench"],
  [":authority", "bench.local"],
  ["x-debug", "1"],
];
const RESPONSE: Array<[string, string]> = [
  [":status", "200"],
  ["content-type", "text/plain"],
];

async function writeSource(name: string, source: string): Promise<string> {
  const dir = join(WORK_DIR, name);
  await mkdir(join(dir, "assembly"), { recursive: true });
  await writeFile(join(dir, "assembly", "index.ts"), source);
  return dir;
}

async function buildOurs(
  runtime: "minimal" | "incremental" | "stub",
  optimize: OptimizeGoal,
): Promise<Uint8Array> {
  const dir = await writeSource("ours", OURS);
  return (await compilePlugin({ baseDir: dir, entry: "assembly/index.ts", runtime, optimize })).wasm;
}

/** Theirs, with the settings compilePlugin uses for `optimize` (packages/sdk/asconfig.json and its size target). */
async function buildTheirs(optimize: OptimizeGoal): Promise<Uint8Array> {
  const dir = await writeSource("theirs", THEIRS);
  const require = createRequire(import.meta.url);
  const shim = dirname(require.resolve("@assemblyscript/wasi-shim/package.json"));
  const { default: asc } = await import("assemblyscript/asc");
  let binary: Uint8Array | undefined;
  const stderr = asc.createMemoryStream();
  // A relative --config: asc resolves the shim config's "lib" wrongly from an absolute path.
  const result = await asc.main(
    [
      join(relative(process.cwd(), dir), "assembly", "index.ts"),
      "--config",
      relative(process.cwd(), join(shim, "asconfig.json")),
      "--use",
      "abort=abort_proc_exit",
      "--optimizeLevel",
      "3",
      "--shrinkLevel",
      optimize === "size" ? "2" : "0",
      "--converge",
      "--outFile",
      "theirs.wasm",
    ],
    {
      stderr,
      writeFile(filename, contents) {
        if (filename.endsWith(".wasm") && typeof contents !== "string") binary = contents;
      },
    },
  );
  if (result.error || !binary) throw new Error(`the G-Core plugin does not compile:\n${stderr.toString()}`);
  return optimize === "size" ? optimizeForSize(binary) : binary;
}

/** Sizes in bytes of the size builds. */
const sizes: Record<string, number> = {};
/** The speed builds. */
const modules: Record<string, Uint8Array> = {};
const harnesses: Record<string, PluginHarness> = {};

function runStreams(plugin: PluginHarness, count: number): void {
  for (let i = 0; i < count; i++) {
    const http = plugin.http();
    http.requestHeaders(REQUEST, true);
    http.responseHeaders(RESPONSE, true);
    http.complete();
  }
}

async function memoryAfterStreams(name: string): Promise<number> {
  const plugin = await startPlugin(modules[name]!);
  runStreams(plugin, MEMORY_STREAMS);
  return plugin.plugin.vm.memory.buffer.byteLength;
}

export default defineSuite({
  name: "sdk",
  description:
    "A header-mutating plugin built with our SDK vs @gcoredev/proxy-wasm-sdk-as, both sides built alike: module size of size builds, ns per HTTP stream in the harness of speed builds (the default; plus our size build against it), guest memory after 20,000 streams per runtime.",
  runs: 5,
  async setup() {
    // Ours first: once asc (in-process) has compiled theirs with the WASI shim's "lib", its library files
    // stay loaded and our next compile fails on ~lib/wasi_process.ts.
    const oursSize = await buildOurs("minimal", "size");
    modules.minimal = await buildOurs("minimal", "speed");
    modules.incremental = await buildOurs("incremental", "speed");
    modules.stub = await buildOurs("stub", "speed");
    // Size builds for the module-size cases; speed builds (the default) for the per-stream and memory cases.
    sizes.minimal = oursSize.byteLength;
    sizes.incremental = (await buildOurs("incremental", "size")).byteLength;
    sizes.gcore = (await buildTheirs("size")).byteLength;
    modules.gcore = await buildTheirs("speed");
    harnesses.ours = await startPlugin(modules.minimal);
    harnesses.oursSize = await startPlugin(oursSize);
    harnesses.incremental = await startPlugin(modules.incremental);
    harnesses.gcore = await startPlugin(modules.gcore);
  },
  cases: [
    { name: "gcore: module size", unit: "bytes", sample: () => sizes.gcore! },
    {
      name: "ours: module size",
      unit: "bytes",
      baseline: "gcore: module size",
      target: 8192,
      sample: () => sizes.minimal!,
    },
    {
      name: "gcore: HTTP stream",
      unit: "ns/stream",
      sample: () =>
        nsPerOperation(STREAMS_PER_SAMPLE, () => runStreams(harnesses.gcore!, STREAMS_PER_SAMPLE)),
    },
    {
      name: "ours: HTTP stream",
      unit: "ns/stream",
      baseline: "gcore: HTTP stream",
      sample: () => nsPerOperation(STREAMS_PER_SAMPLE, () => runStreams(harnesses.ours!, STREAMS_PER_SAMPLE)),
    },
    {
      name: "ours (size build): HTTP stream",
      unit: "ns/stream",
      baseline: "ours: HTTP stream",
      sample: () =>
        nsPerOperation(STREAMS_PER_SAMPLE, () => runStreams(harnesses.oursSize!, STREAMS_PER_SAMPLE)),
    },
    {
      name: "ours (incremental runtime): module size",
      unit: "bytes",
      baseline: "ours: module size",
      sample: () => sizes.incremental!,
    },
    {
      name: "ours (incremental runtime): HTTP stream",
      unit: "ns/stream",
      baseline: "ours: HTTP stream",
      sample: () =>
        nsPerOperation(STREAMS_PER_SAMPLE, () => runStreams(harnesses.incremental!, STREAMS_PER_SAMPLE)),
    },
    { name: "gcore: memory after 20k streams", unit: "bytes", sample: () => memoryAfterStreams("gcore") },
    {
      name: "ours (minimal runtime): memory after 20k streams",
      unit: "bytes",
      baseline: "gcore: memory after 20k streams",
      sample: () => memoryAfterStreams("minimal"),
    },
    {
      name: "ours (incremental runtime): memory after 20k streams",
      unit: "bytes",
      baseline: "gcore: memory after 20k streams",
      sample: () => memoryAfterStreams("incremental"),
    },
    {
      name: "ours (stub runtime): memory after 20k streams",
      unit: "bytes",
      baseline: "gcore: memory after 20k streams",
      sample: () => memoryAfterStreams("stub"),
    },
  ],
});
