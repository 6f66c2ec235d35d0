/**
 * The local data plane under load: requests/s (as µs per request, lower is better) and p99 latency through
 * `pwts run` with no filter, with one no-op Wasm filter and with the header-mutation plugin, against a plain
 * Node.js reverse proxy (node:http + undici) measured in the same run. Load comes from autocannon; every
 * proxy and the upstream run in their own processes so the load generator does not share their event loop.
 *
 * Targets (issue 4), as ratios to compare in the table: no filter ≥ 0.9× the baseline's throughput (µs/req
 * ratio ≤ 1.11); one Wasm filter costs ≤ 10% of the no-filter throughput.
 * The p99 and CPU cases report figures of the latest throughput sample of the same target (no extra load run);
 * "CPU µs/req" is the proxy process's own CPU time per request, the steadiest figure on a shared machine.
 */

import autocannon from "autocannon";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "../packages/proxy/test/support/config.ts";
import { noopPluginWat, writePlugins } from "../packages/proxy/test/support/plugins.ts";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { BASELINE_REVERSE_PROXY_JS } from "./baseline-reverse-proxy.ts";
import { defineSuite } from "./benchmark.ts";
import { processCpuMicros } from "./process-cpu.ts";
import { ProcessTargets } from "./process-targets.ts";

const CONNECTIONS = 16;
const DURATION_S = 2;
const HEADER_MUTATION_DIR = new URL("../plugins/header-mutation", import.meta.url).pathname;

// Plain JavaScript run with `node --input-type=module -e`, so each server is its own process.
const UPSTREAM_JS = `
import { createServer } from "node:http";
const body = Buffer.from("hello from the upstream\\n");
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;

/** One listener named `bench` routing everything to the upstream; no access log, no admin listener. */
function proxyYaml(upstreamPort: number, filters: string): string {
  return httpBootstrap({
    listenerName: "bench",
    accessLog: false,
    admin: false,
    filters,
    routes: `
              - match: { prefix: "/" }
                route: { cluster: upstream }`,
    clusters: staticCluster("upstream", upstreamPort),
  });
}

type Target = "baseline" | "none" | "noop" | "header";
const targets = new ProcessTargets<Target>();
const lastP99 = new Map<Target, number>();
const lastCpu = new Map<Target, number>();

/**
 * One autocannon run against a target; returns wall µs per request and records its p99 and the proxy
 * process's CPU µs per request (which other load on the machine disturbs far less than wall time).
 */
async function measure(target: Target): Promise<number> {
  const pid = targets.pid(target);
  const cpuBefore = processCpuMicros(pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${targets.port(target)}/bench`,
    connections: CONNECTIONS,
    duration: DURATION_S,
  });
  if (result.errors > 0 || result.non2xx > 0 || result.requests.total === 0) {
    throw new Error(
      `${target}: ${result.errors} errors, ${result.non2xx} non-2xx of ${result.requests.total}`,
    );
  }
  lastP99.set(target, result.latency.p99);
  lastCpu.set(target, (processCpuMicros(pid) - cpuBefore) / result.requests.total);
  return 1e6 / result.requests.average;
}

function cpu(target: Target): number {
  const v = lastCpu.get(target);
  if (v === undefined) throw new Error(`no throughput sample of ${target} yet`);
  return v;
}

function p99(target: Target): number {
  const v = lastP99.get(target);
  if (v === undefined) throw new Error(`no throughput sample of ${target} yet`);
  return v;
}

export default defineSuite({
  name: "proxy",
  description:
    "µs per request (1/throughput), proxy CPU µs per request and p99 ms through pwts run (no filter, one no-op Wasm filter, header mutation) vs node:http + undici reverse proxy, autocannon 16 connections, 2 s per sample.",
  runs: 9,
  async setup() {
    const plugins = writePlugins({ noop: noopPluginWat() });
    await buildPlugin(HEADER_MUTATION_DIR); // built unless up to date
    const upstreamPort = await targets.helper(UPSTREAM_JS);
    await targets.server("baseline", BASELINE_REVERSE_PROXY_JS, [String(upstreamPort)]);
    const configs: Array<[Target, string]> = [
      ["none", ""],
      ["noop", wasmHttpFilter(plugins.path.noop, { name: "noop" })],
      ["header", wasmHttpFilter(`${HEADER_MUTATION_DIR}/build/plugin.wasm`, { name: "header_mutation" })],
    ];
    for (const [target, filter] of configs) await targets.proxy(target, proxyYaml(upstreamPort, filter));
  },
  teardown: () => targets.stop(),
  cases: [
    { name: "baseline node:http + undici: µs/req", unit: "µs/req", sample: () => measure("baseline") },
    {
      name: "pwts run, no filter: µs/req",
      unit: "µs/req",
      baseline: "baseline node:http + undici: µs/req",
      sample: () => measure("none"),
    },
    {
      name: "pwts run, no-op Wasm filter: µs/req",
      unit: "µs/req",
      baseline: "pwts run, no filter: µs/req",
      sample: () => measure("noop"),
    },
    {
      name: "pwts run, header mutation: µs/req",
      unit: "µs/req",
      baseline: "pwts run, no filter: µs/req",
      sample: () => measure("header"),
    },
    { name: "baseline node:http + undici: CPU µs/req", unit: "CPU µs/req", sample: () => cpu("baseline") },
    {
      name: "pwts run, no filter: CPU µs/req",
      unit: "CPU µs/req",
      baseline: "baseline node:http + undici: CPU µs/req",
      sample: () => cpu("none"),
    },
    {
      name: "pwts run, no-op Wasm filter: CPU µs/req",
      unit: "CPU µs/req",
      baseline: "pwts run, no filter: CPU µs/req",
      sample: () => cpu("noop"),
    },
    {
      name: "pwts run, header mutation: CPU µs/req",
      unit: "CPU µs/req",
      baseline: "pwts run, no filter: CPU µs/req",
      sample: () => cpu("header"),
    },
    { name: "baseline node:http + undici: p99", unit: "ms", sample: () => p99("baseline") },
    {
      name: "pwts run, no filter: p99",
      unit: "ms",
      baseline: "baseline node:http + undici: p99",
      sample: () => p99("none"),
    },
    {
      name: "pwts run, no-op Wasm filter: p99",
      unit: "ms",
      baseline: "pwts run, no filter: p99",
      sample: () => p99("noop"),
    },
    {
      name: "pwts run, header mutation: p99",
      unit: "ms",
      baseline: "pwts run, no filter: p99",
      sample: () => p99("header"),
    },
  ],
});
