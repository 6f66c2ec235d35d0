/**
 * Child process of the plugins bench: starts one plugin in the host harness, runs a workload's requests or
 * connections through it and prints one JSON line with the guest memory, this process's RSS and its CPU time per item. A fresh
 * process per sample, so one plugin's garbage, JIT code or heap growth never counts against another's.
 *
 *   node --import tsx --expose-gc bench/plugin-memory-probe.ts <plugin.wasm> <workload name> <count>
 */
import { readFileSync } from "node:fs";
import { LogLevel } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { runWorkload, WORKLOADS } from "./plugin-workloads.ts";

/** What the probe prints (one line of JSON). */
export interface MemoryProbeResult {
  guestMemoryBytes: number;
  rssBytes: number;
  /** This process's CPU time (all threads, GC included) per request or connection, in µs. */
  cpuMicrosPerItem: number;
}

const [wasmPath, workloadName, countArg] = process.argv.slice(2);
const workload = workloadName === undefined ? undefined : WORKLOADS[workloadName];
const count = Number(countArg);
if (!wasmPath || !workload || !(Number.isInteger(count) && count > 0)) {
  process.stderr.write("usage: plugin-memory-probe.ts <plugin.wasm> <workload name> <count>\n");
  process.exit(2);
}

const harness = await startPlugin(readFileSync(wasmPath), {
  name: workloadName,
  rootId: workload.rootId,
  configuration: workload.configuration,
  // Envoy's default level (the harness's is trace, which would time debug logging nobody runs with).
  logLevel: LogLevel.Info,
});
const cpuBefore = process.cpuUsage();
runWorkload(harness, workload.kind, count);
const cpu = process.cpuUsage(cpuBefore);
// RSS after a full collection: what the run retained, not garbage a later GC would have freed.
globalThis.gc?.();
const result: MemoryProbeResult = {
  guestMemoryBytes: harness.plugin.vm.memory.buffer.byteLength,
  rssBytes: process.memoryUsage().rss,
  cpuMicrosPerItem: (cpu.user + cpu.system) / count,
};
harness.shutdown();
process.stdout.write(`${JSON.stringify(result)}\n`);
