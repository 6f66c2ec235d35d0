/**
 * The TypeScript plugins (@proxy-wasm-ts/js, QuickJS snapshotted into the module) side by side with their
 * AssemblyScript twins, in the same run: module size, cold start (instantiate + proxy_on_vm_start +
 * proxy_on_configure in our host, module compiled beforehand), CPU per request through the harness (a fresh
 * process per sample, the plugins bench's workloads and probe), guest memory after 100,000 streams against
 * after 1,000 (growth means a leak), and CPU per request through `pwts run` under load (header-mutation).
 *
 * Targets from issue 15: header-mutation ≤ 1 MB raw, cold start ≤ 10 ms, CPU ≤ 10× the twin, no memory
 * growth. They are reported, never asserted.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { TestHost } from "@proxy-wasm-ts/host/testing";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { type BenchCase, defineSuite } from "./benchmark.ts";
import { fixedResponseUpstreamJs, HttpLoad } from "./http-load.ts";
import type { MemoryProbeResult } from "./plugin-memory-probe.ts";
import { WORKLOADS } from "./plugin-workloads.ts";
import { ProcessTargets } from "./process-targets.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PROBE = join(ROOT, "bench/plugin-memory-probe.ts");
const PROBE_TIMEOUT_MS = 300_000;
/** Twins: the AssemblyScript folder, and its TypeScript twin `<name>-ts`. */
const TWINS = ["header-mutation", "regional-routing", "tcp-routing"] as const;
type Twin = (typeof TWINS)[number];
const MANY = 100_000;
const FEW = 1_000;
const COLD_STARTS = 20;

const run = promisify(execFile);
const modules = new Map<string, Uint8Array>();
const wasmPath = (folder: string) => join(ROOT, "plugins", folder, "build/plugin.wasm");
const tsFolder = (twin: Twin) => `${twin}-ts`;

async function probe(folder: string, twin: Twin, count: number): Promise<MemoryProbeResult> {
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", "--expose-gc", PROBE, wasmPath(folder), twin, String(count)],
    { cwd: ROOT, timeout: PROBE_TIMEOUT_MS, killSignal: "SIGKILL" },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as MemoryProbeResult;
}

/** Median ms of COLD_STARTS starts: instantiate, proxy_on_vm_start, proxy_on_configure (compiled once). */
async function coldStartMs(folder: string, twin: Twin): Promise<number> {
  const testHost = new TestHost();
  const module = await testHost.host.loadModule(modules.get(folder)!);
  const times: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const start = performance.now();
    const plugin = testHost.host.startPlugin(module, {
      name: `${folder}-${i}`,
      // A VM id of its own: plugins with the same module and VM id share one VM (Envoy's rule).
      vmId: `cold-start-${i}`,
      rootId: WORKLOADS[twin]!.rootId,
      configuration: WORKLOADS[twin]!.configuration,
    });
    times.push(performance.now() - start);
    plugin.shutdown();
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/** The latest probe round's results, by `<folder> <count>`. */
const probes = new Map<string, MemoryProbeResult>();

async function probeRound(): Promise<void> {
  probes.clear();
  // One at a time: the CPU figure is per process, but two QuickJS probes at once would slow each other's
  // wall time only; one at a time keeps the round simple on two cores shared with the other half.
  for (const twin of TWINS) {
    probes.set(`${twin} ${MANY}`, await probe(twin, twin, MANY));
    probes.set(`${tsFolder(twin)} ${MANY}`, await probe(tsFolder(twin), twin, MANY));
    probes.set(`${tsFolder(twin)} ${FEW}`, await probe(tsFolder(twin), twin, FEW));
  }
}

function probed(key: string, figure: (r: MemoryProbeResult) => number): number {
  const result = probes.get(key);
  if (!result) throw new Error(`no probe of ${key} in this round`);
  return figure(result);
}

function cases(): BenchCase[] {
  const list: BenchCase[] = [];
  for (const twin of TWINS) {
    const ts = tsFolder(twin);
    list.push(
      { name: `module size: ${twin}`, unit: "bytes", sample: () => modules.get(twin)!.byteLength },
      {
        name: `module size: ${ts}`,
        unit: "bytes",
        baseline: `module size: ${twin}`,
        ...(twin === "header-mutation" ? { target: 1024 * 1024 } : {}),
        sample: () => modules.get(ts)!.byteLength,
      },
      { name: `cold start: ${twin}`, unit: "ms", sample: () => coldStartMs(twin, twin) },
      {
        name: `cold start: ${ts}`,
        unit: "ms",
        baseline: `cold start: ${twin}`,
        target: 10,
        sample: () => coldStartMs(ts, twin),
      },
    );
  }
  let first = true;
  for (const twin of TWINS) {
    const ts = tsFolder(twin);
    const item = WORKLOADS[twin]!.kind === "tcp" ? "connection" : "request";
    const runRound = first;
    first = false;
    list.push(
      {
        name: `harness CPU per ${item}: ${twin}`,
        unit: "CPU µs",
        warmUp: false,
        sample: async () => {
          if (runRound) await probeRound();
          return probed(`${twin} ${MANY}`, (r) => r.cpuMicrosPerItem);
        },
      },
      {
        name: `harness CPU per ${item}: ${ts}`,
        unit: "CPU µs",
        baseline: `harness CPU per ${item}: ${twin}`,
        ratioTarget: 10,
        warmUp: false,
        sample: () => probed(`${ts} ${MANY}`, (r) => r.cpuMicrosPerItem),
      },
      {
        name: `guest memory after ${FEW.toLocaleString("en")}: ${ts}`,
        unit: "KiB",
        warmUp: false,
        sample: () => probed(`${ts} ${FEW}`, (r) => r.guestMemoryBytes / 1024),
      },
      {
        name: `guest memory after ${MANY.toLocaleString("en")}: ${ts}`,
        unit: "KiB",
        baseline: `guest memory after ${FEW.toLocaleString("en")}: ${ts}`,
        ratioTarget: 1,
        warmUp: false,
        sample: () => probed(`${ts} ${MANY}`, (r) => r.guestMemoryBytes / 1024),
      },
    );
  }
  return list;
}

// `pwts run` with header-mutation (AssemblyScript, then TypeScript) in front of a fixed-response upstream.
type Target = "header-mutation" | "header-mutation-ts";
const targets = new ProcessTargets<Target>();
const load = new HttpLoad(targets, { path: "/headers", headers: { host: "bench" } });

function proxyYaml(folder: string, upstreamPort: number): string {
  return httpBootstrap({
    listenerName: "bench",
    accessLog: false,
    admin: false,
    filters: wasmHttpFilter(wasmPath(folder), {
      name: folder,
      configuration: WORKLOADS["header-mutation"]!.configuration,
    }),
    routes: `
              - match: { prefix: "/" }
                route: { cluster: upstream }`,
    clusters: staticCluster("upstream", upstreamPort),
  });
}

export default defineSuite({
  name: "ts-plugins",
  description: `TypeScript plugins (@proxy-wasm-ts/js) vs their AssemblyScript twins in the same run: module size; cold start (median of ${COLD_STARTS} instantiate + vm_start + configure in our host); harness CPU per request/connection and guest memory after ${MANY.toLocaleString("en")} vs ${FEW.toLocaleString("en")} streams (fresh process per sample, the plugins bench's workloads); pwts run CPU per request under autocannon load (header-mutation).`,
  runs: 5,
  async setup() {
    // One at a time: building is CPU-bound and the machine has two cores.
    for (const twin of TWINS) {
      modules.set(twin, await buildPlugin(join(ROOT, "plugins", twin)));
      modules.set(tsFolder(twin), await buildPlugin(join(ROOT, "plugins", tsFolder(twin))));
    }
    const upstreamPort = await targets.helper(fixedResponseUpstreamJs('{"ok":true}\n', "application/json"));
    for (const target of ["header-mutation", "header-mutation-ts"] as const) {
      await targets.proxy(target, proxyYaml(target, upstreamPort));
    }
  },
  teardown: () => targets.stop(),
  cases: [
    ...cases(),
    {
      name: "pwts run µs per request: header-mutation",
      unit: "µs/req",
      sample: () => load.measure("header-mutation"),
    },
    {
      name: "pwts run µs per request: header-mutation-ts",
      unit: "µs/req",
      baseline: "pwts run µs per request: header-mutation",
      sample: () => load.measure("header-mutation-ts"),
    },
    {
      name: "pwts run CPU per request: header-mutation",
      unit: "CPU µs/req",
      sample: () => load.lastCpu("header-mutation"),
    },
    {
      name: "pwts run CPU per request: header-mutation-ts",
      unit: "CPU µs/req",
      baseline: "pwts run CPU per request: header-mutation",
      ratioTarget: 10,
      sample: () => load.lastCpu("header-mutation-ts"),
    },
  ],
});
