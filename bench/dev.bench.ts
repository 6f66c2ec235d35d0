/**
 * `pwts dev` (issue 18): save-to-serving time, and the cost of the callback time limit.
 *
 * - save-to-serving: `pwts dev` runs a scratch copy of an AssemblyScript header plugin project; a sample
 *   writes a new header value into its source and times until a request answers with it (file write to the
 *   first response showing the change). Baseline: the loop the issue starts from, in the same run: `pwts
 *   build` the project, start `pwts run` on it, and time until the first request answers with the change.
 *   Target: ≤ 2000 ms median.
 * - the time limit's cost (the guard is compiled into the module at load, see packages/host/src/callback-guard.ts):
 *   per request through `pwts run` with the header-mutation plugin, `--callback-timeout 1000` (the default)
 *   against `--callback-timeout 0` (wall µs/req and the proxy's CPU µs/req, autocannon); and one whole HTTP
 *   stream in process (CPU ns/stream) with the guarded and the plain module. Target ratio ≤ 1.03.
 * - the mechanisms not chosen, measured on the same stream: a node:vm timeout (a watchdog thread per call)
 *   around each of the stream's ten callbacks, and one cross-thread round trip per callback to a worker that
 *   would own the VM (SharedArrayBuffer + Atomics; a lower bound: every hostcall would need one as well).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { Worker } from "node:worker_threads";
import { type Plugin, ProxyWasmHost } from "@proxy-wasm-ts/host";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { request } from "undici";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { cpuNsPerCall, defineSuite, figureCases, type TargetSet } from "./benchmark.ts";
import { fixedResponseUpstreamJs, HttpLoad } from "./http-load.ts";
import { ProcessTargets } from "./process-targets.ts";

const REPO = new URL("../", import.meta.url).pathname;
const CLI = join(REPO, "packages/cli/bin/pwts.js");
const HEADER_MUTATION_DIR = join(REPO, "plugins/header-mutation");
const HEADER_CONFIG = '{"header": "x-training", "value": "envoy-wasm"}';
const STREAMS_PER_SAMPLE = 5_000;
const ROUND_TRIPS_PER_SAMPLE = 2_000;

// ---- save-to-serving ---------------------------------------------------------------------------------

/** The scratch project's plugin: answers with `x-version: <version>`. */
function pluginSource(version: number): string {
  return `export * from "@proxy-wasm-ts/sdk/assembly/exports";
import { Action, HttpContext, RootContext, registerRootContext, responseHeaders } from "@proxy-wasm-ts/sdk/assembly";
class Stream extends HttpContext {
  onResponseHeaders(count: u32, endOfStream: bool): Action {
    responseHeaders.set("x-version", "${version}");
    return Action.Continue;
  }
}
class Root extends RootContext {
  createHttpContext(id: u32): HttpContext | null {
    return new Stream(id, this);
  }
}
registerRootContext((id: u32): RootContext => new Root(id));
`;
}

const PROJECT_YAML = httpBootstrap({
  listenerName: "bench",
  accessLog: false,
  admin: false,
  filters: wasmHttpFilter("build/plugin.wasm", { name: "versioned" }),
  routes: `
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "ok" } }`,
  clusters: " []",
});

let projectDir = "";
let version = 1;
let devChild: ChildProcess | undefined;
let devPort = 0;

function readyPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let err = "";
    let port = 0;
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      err += d;
      port ||= Number(/listener bench \(http\) on 127\.0\.0\.1:(\d+)/.exec(err)?.[1] ?? 0);
      if (port && /pwts: ready/.test(err)) resolve(port);
    });
    child.once("exit", (code) => reject(new Error(`pwts exited ${code}: ${err}`)));
  });
}

/** Polls until a response carries `x-version: expected`; returns the ms since `start`. */
async function untilServing(port: number, expected: number, start: number): Promise<number> {
  for (;;) {
    try {
      const res = await request(`http://127.0.0.1:${port}/`);
      await res.body.dump();
      if (res.headers["x-version"] === String(expected)) return performance.now() - start;
    } catch {
      // Not listening yet (the restart baseline).
    }
    if (performance.now() - start > 120_000) throw new Error(`version ${expected} never served`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function writeVersion(): number {
  version++;
  writeFileSync(join(projectDir, "assembly", "index.ts"), pluginSource(version));
  return version;
}

async function saveToServing(): Promise<number> {
  const v = writeVersion();
  return untilServing(devPort, v, performance.now());
}

/** The old loop: `pwts build`, start `pwts run`, first request. */
async function buildAndRestart(): Promise<number> {
  const v = writeVersion();
  const start = performance.now();
  const build = spawnSync(process.execPath, [CLI, "build", projectDir], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`pwts build failed: ${build.stderr}`);
  const child = spawn(process.execPath, [CLI, "run", "envoy.yaml", "--log-level", "error"], {
    cwd: projectDir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  try {
    const port = await readyPort(child);
    return await untilServing(port, v, start);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

// ---- the time limit's cost ---------------------------------------------------------------------------

type Target = "off" | "on";
const targets = new ProcessTargets<Target>();
const load = new HttpLoad(targets, { path: "/bench" });
const GUARD_SET: TargetSet<Target> = {
  targets: ["off", "on"],
  label: {
    off: "pwts run header mutation, --callback-timeout 0",
    on: "pwts run header mutation, time limit on",
  },
  comparedWith: { off: undefined, on: "off" },
};

let plainPlugin: Plugin;
let guardedPlugin: Plugin;

const REQUEST_HEADERS: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/bench"],
  [":authority", "bench.local"],
  [":scheme", "http"],
  ["user-agent", "proxy-wasm-ts-bench/1"],
];

function runStream(plugin: Plugin): void {
  const s = plugin.newHttpStream();
  s.requestHeaders(REQUEST_HEADERS);
  s.requestBody(new Uint8Array(4), true);
  s.responseHeaders([[":status", "200"]]);
  s.responseBody(new Uint8Array(4), true);
  s.complete();
}

// Alternative 1: a node:vm timeout per callback (Node starts a watchdog thread for each such call).
const context = vm.createContext({ callback: () => 0 });
const script = new vm.Script("callback()");
function streamUnderVmTimeouts(plugin: Plugin): void {
  // The ten callbacks of a stream, each entered through a vm timeout, around the same real stream.
  for (let i = 0; i < 10; i++) script.runInContext(context, { timeout: 1000 });
  runStream(plugin);
}

// Alternative 2: the VM in a worker; a callback is a round trip the main thread waits for.
const shared = new Int32Array(new SharedArrayBuffer(8));
let worker: Worker | undefined;
function roundTrip(): void {
  Atomics.store(shared, 1, 0);
  Atomics.add(shared, 0, 1);
  Atomics.notify(shared, 0);
  Atomics.wait(shared, 1, 0);
}
const WORKER_JS = `
const { workerData } = require("node:worker_threads");
const shared = new Int32Array(workerData);
let seen = 0;
for (;;) {
  Atomics.wait(shared, 0, seen);
  seen = Atomics.load(shared, 0);
  if (seen < 0) break;
  Atomics.store(shared, 1, 1);
  Atomics.notify(shared, 1);
}`;

export default defineSuite({
  name: "dev",
  description:
    "pwts dev: save-to-serving ms (source write to the first response showing it) for an AssemblyScript header plugin vs pwts build + restart pwts run; the callback time limit's cost per request (pwts run, autocannon) and per in-process stream vs the same without it, and the mechanisms not chosen (vm timeout per callback, worker round trip per callback).",
  runs: 9,
  async setup() {
    // Scratch project inside the repository, so its @proxy-wasm-ts/sdk imports resolve (build/ is ignored).
    mkdirSync(join(REPO, "bench/build"), { recursive: true });
    projectDir = mkdtempSync(join(REPO, "bench/build/dev-project-"));
    mkdirSync(join(projectDir, "assembly"));
    writeFileSync(join(projectDir, "package.json"), '{"name":"bench-dev-project","private":true}\n');
    writeFileSync(join(projectDir, "assembly", "index.ts"), pluginSource(version));
    writeFileSync(join(projectDir, "envoy.yaml"), PROJECT_YAML);
    devChild = spawn(process.execPath, [CLI, "dev", "envoy.yaml", "--log-level", "error"], {
      cwd: projectDir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    devPort = await readyPort(devChild);

    const headerBytes = await buildPlugin(HEADER_MUTATION_DIR);
    const upstreamPort = await targets.helper(fixedResponseUpstreamJs("hello\n", "text/plain"));
    const yaml = httpBootstrap({
      listenerName: "bench",
      accessLog: false,
      admin: false,
      filters: wasmHttpFilter(`${HEADER_MUTATION_DIR}/build/plugin.wasm`, {
        name: "header_mutation",
        configuration: HEADER_CONFIG,
      }),
      routes: `
              - match: { prefix: "/" }
                route: { cluster: upstream }`,
      clusters: staticCluster("upstream", upstreamPort),
    });
    await targets.proxy("off", yaml, ["--callback-timeout", "0"]);
    await targets.proxy("on", yaml, ["--callback-timeout", "1000"]);

    const quiet = () => {};
    plainPlugin = await new ProxyWasmHost({ log: quiet }).createPlugin(headerBytes, {
      configuration: HEADER_CONFIG,
    });
    guardedPlugin = await new ProxyWasmHost({ log: quiet, callbackTimeoutMs: 1000 }).createPlugin(
      headerBytes,
      {
        configuration: HEADER_CONFIG,
      },
    );
    if (!guardedPlugin.module.callbackTimeoutMs) throw new Error("the guarded module has no time limit");
    worker = new Worker(WORKER_JS, { eval: true, workerData: shared.buffer });
    roundTrip();
  },
  async teardown() {
    if (devChild && devChild.exitCode === null) {
      devChild.kill("SIGTERM");
      await new Promise((r) => devChild!.once("exit", r));
    }
    await targets.stop();
    if (worker) {
      Atomics.store(shared, 0, -1);
      Atomics.notify(shared, 0);
      await worker.terminate();
    }
    if (projectDir) rmSync(projectDir, { recursive: true, force: true });
  },
  cases: [
    {
      name: "pwts build + restart pwts run: save to serving",
      unit: "ms",
      warmUp: false,
      sample: buildAndRestart,
    },
    {
      name: "pwts dev: save to serving",
      unit: "ms",
      baseline: "pwts build + restart pwts run: save to serving",
      target: 2000,
      sample: saveToServing,
    },
    ...figureCases(GUARD_SET, "µs/req", "µs/req", (t) => load.measure(t)).map((c) =>
      c.baseline ? { ...c, ratioTarget: 1.03 } : c,
    ),
    ...figureCases(GUARD_SET, "CPU µs/req", "CPU µs/req", (t) => load.lastCpu(t)).map((c) =>
      c.baseline ? { ...c, ratioTarget: 1.03 } : c,
    ),
    {
      name: "whole HTTP stream, header mutation, no time limit",
      unit: "CPU ns/stream",
      sample: () => cpuNsPerCall(STREAMS_PER_SAMPLE, () => runStream(plainPlugin)),
    },
    {
      name: "whole HTTP stream, header mutation, time limit (instrumented module)",
      unit: "CPU ns/stream",
      baseline: "whole HTTP stream, header mutation, no time limit",
      ratioTarget: 1.03,
      sample: () => cpuNsPerCall(STREAMS_PER_SAMPLE, () => runStream(guardedPlugin)),
    },
    {
      name: "not chosen: the same stream with a node:vm timeout around each of 10 callbacks",
      unit: "CPU ns/stream",
      baseline: "whole HTTP stream, header mutation, no time limit",
      sample: () => cpuNsPerCall(STREAMS_PER_SAMPLE / 5, () => streamUnderVmTimeouts(plainPlugin)),
    },
    {
      name: "not chosen: the same stream plus a worker round trip per callback (10)",
      unit: "CPU ns/stream",
      baseline: "whole HTTP stream, header mutation, no time limit",
      sample: () =>
        cpuNsPerCall(ROUND_TRIPS_PER_SAMPLE, () => {
          for (let i = 0; i < 10; i++) roundTrip();
          runStream(plainPlugin);
        }),
    },
  ],
});
