/**
 * Every plugin under plugins/: module size raw and gzipped, and what 100,000 requests (HTTP plugins) or
 * connections (tcp-routing) through the host harness leave behind: the VM's guest memory and the RSS of
 * the fresh process that ran them (after a full GC), plus that process's CPU time per request, i.e. one
 * whole stream per plugin through the harness. The baseline is the same for a no-op plugin built with our
 * SDK, so a ratio says what a plugin's own logic adds to the SDK's floor.
 *
 * Plugins are built with the SDK's compilePlugin when build/plugin.wasm is missing or older than its
 * sources (the helper the plugin tests use). Sizes are exact, so their samples only repeat. A memory sample
 * is a round of fresh processes, one per plugin and baseline (plugin-memory-probe.ts).
 */
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { type BenchCase, defineSuite } from "./benchmark.ts";
import type { MemoryProbeResult } from "./plugin-memory-probe.ts";
import { NOOP_PLUGIN_SOURCE, WORKLOADS } from "./plugin-workloads.ts";

const REQUESTS = 100_000;
/** A probe that takes longer is stuck (100k requests take a few seconds even on a loaded machine). */
const PROBE_TIMEOUT_MS = 120_000;
const ROOT = new URL("..", import.meta.url).pathname;
const PROBE = join(ROOT, "bench/plugin-memory-probe.ts");
/** The machine has two cores. */
const PARALLEL_PROBES = 2;
/** Gitignored (build/): where the no-op baseline plugin is compiled. */
const NOOP_DIR = join(ROOT, "bench/build/noop-plugin");
const NOOP = "no-op plugin";

const run = promisify(execFile);
/** Built module bytes by plugin folder name, and NOOP. */
const modules = new Map<string, Uint8Array>();
const wasmPaths = new Map<string, string>();
const lastProbe = new Map<string, MemoryProbeResult>();

/**
 * Builds the no-op baseline like any plugin folder (reused while newer than the SDK's sources). The source
 * is rewritten only when it changed, since a new modification time would force a rebuild.
 */
async function buildNoop(): Promise<Uint8Array> {
  const entry = join(NOOP_DIR, "assembly/index.ts");
  const current = await readFile(entry, "utf8").catch(() => undefined);
  if (current !== NOOP_PLUGIN_SOURCE) {
    await mkdir(dirname(entry), { recursive: true });
    await writeFile(entry, NOOP_PLUGIN_SOURCE);
  }
  return buildPlugin(NOOP_DIR);
}

/** Plugin folders that have an assembly/ entry (test-support and the index README are not plugins). */
async function pluginNames(): Promise<string[]> {
  const entries = await readdir(join(ROOT, "plugins"), { withFileTypes: true });
  const names: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const inside = await readdir(join(ROOT, "plugins", e.name));
    if (inside.includes("assembly")) names.push(e.name);
  }
  return names.sort();
}

/** Runs one probe process (one workload, REQUESTS items) and returns what it measured. */
async function probe(workloadName: string): Promise<MemoryProbeResult> {
  const workload = WORKLOADS[workloadName]!;
  const wasm = wasmPaths.get(workload.plugin ?? NOOP)!;
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", "--expose-gc", PROBE, wasm, workloadName, String(REQUESTS)],
    { cwd: ROOT, timeout: PROBE_TIMEOUT_MS, killSignal: "SIGKILL" },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as MemoryProbeResult;
}

/**
 * One round: a probe of every workload, PARALLEL_PROBES at a time. RSS, guest memory and CPU time of a
 * process do not depend on what runs beside it (only wall time would), so the round runs on both cores;
 * a plugin and its baseline are measured in the same round, under the same load.
 */
async function probeRound(workloadNames: string[]): Promise<void> {
  lastProbe.clear();
  const queue = [...workloadNames];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      lastProbe.set(name, await probe(name));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_PROBES }, worker));
}

/** A figure of this round's probe of `workloadName`. */
function fromLastProbe(workloadName: string, figure: (r: MemoryProbeResult) => number): number {
  const result = lastProbe.get(workloadName);
  if (!result) throw new Error(`no probe of ${workloadName} in this round`);
  return figure(result);
}

const rssMiB = (r: MemoryProbeResult) => r.rssBytes / 2 ** 20;
const guestKiB = (r: MemoryProbeResult) => r.guestMemoryBytes / 1024;
const cpuMicros = (r: MemoryProbeResult) => r.cpuMicrosPerItem;

/** Case list: known at import time from the folders, so the table lists a plugin whose build fails too. */
function cases(names: string[]): BenchCase[] {
  const list: BenchCase[] = [];
  for (const [label, measure] of [
    ["module size", (b: Uint8Array) => b.byteLength],
    ["gzipped size", (b: Uint8Array) => gzipSync(b, { level: 9 }).byteLength],
  ] as const) {
    const base = `${label}: ${NOOP}`;
    list.push({ name: base, unit: "bytes", sample: () => measure(modules.get(NOOP)!) });
    for (const name of names) {
      list.push({
        name: `${label}: ${name}`,
        unit: "bytes",
        baseline: base,
        sample: () => measure(modules.get(name)!),
      });
    }
  }
  const memoryStart = list.length;
  const memoryTargets = Object.entries(WORKLOADS)
    .filter(([, w]) => !w.plugin || names.includes(w.plugin))
    .map(([n]) => n);
  for (const [kind, baseName] of [
    ["http", "no-op plugin (http)"],
    ["tcp", "no-op plugin (tcp)"],
  ] as const) {
    const items = kind === "http" ? "100k requests" : "100k connections";
    const item = kind === "http" ? "request" : "connection";
    const figures = [
      { label: `RSS after ${items}`, unit: "MiB", figure: rssMiB },
      { label: `guest memory after ${items}`, unit: "KiB", figure: guestKiB },
      { label: `CPU per ${item}`, unit: "CPU µs", figure: cpuMicros },
    ];
    const targets = memoryTargets.filter((n) => WORKLOADS[n]!.kind === kind && n !== baseName);
    for (const { label, unit, figure } of figures) {
      for (const name of [baseName, ...targets]) {
        const first = list.length === memoryStart;
        list.push({
          name: `${label}: ${name}`,
          unit,
          ...(name === baseName ? {} : { baseline: `${label}: ${baseName}` }),
          // Every sample is fresh processes: nothing to warm up. The round's first case runs the round.
          warmUp: false,
          sample: first
            ? async () => {
                await probeRound(memoryTargets);
                return fromLastProbe(name, figure);
              }
            : () => fromLastProbe(name, figure),
        });
      }
    }
  }
  return list;
}

const names = await pluginNames();

export default defineSuite({
  name: "plugins",
  description: `Every plugin: module size raw and gzipped (level 9); guest memory, process RSS (fresh process, after GC) and process CPU per item after ${REQUESTS.toLocaleString("en")} requests (HTTP plugins: POST with JSON bodies both ways, callouts answered, shipped configuration) or connections (tcp-routing) in the host harness; baseline: a no-op plugin built with our SDK.`,
  runs: 5,
  async setup() {
    modules.set(NOOP, await buildNoop());
    wasmPaths.set(NOOP, join(NOOP_DIR, "build/plugin.wasm"));
    // One at a time: compiling is CPU-bound and the machine has two cores.
    for (const name of names) {
      const dir = join(ROOT, "plugins", name);
      modules.set(name, await buildPlugin(dir));
      wasmPaths.set(name, join(dir, "build/plugin.wasm"));
    }
  },
  cases: cases(names),
});
