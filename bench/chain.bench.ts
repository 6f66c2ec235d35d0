/**
 * Every HTTP plugin chained on one `pwts run` listener, under load: µs per request (1/throughput), the
 * proxy process's CPU µs per request and p99, against `pwts run` with no filter and against a plain
 * Node.js reverse proxy (node:http + undici), all measured in the same run with autocannon.
 *
 * The chain runs each plugin with its shipped configuration (its envoy.yaml), in the order a platform team
 * would stack them: block first, route, enrich, mutate, redact, observe, time. Every callout cluster
 * (discovery, metadata, ingestion) and both regions point at the one upstream, which answers every request
 * with a JSON body that satisfies each plugin: so each request does the chain's real work, including
 * callout-enrichment's callout per request and api-observer's batch posts. The proxy suite
 * (proxy.bench.ts) has the no-op and single-plugin cases; this one adds the whole chain.
 */

import { join } from "node:path";
import autocannon from "autocannon";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "../packages/proxy/test/support/config.ts";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { BASELINE_REVERSE_PROXY_JS } from "./baseline-reverse-proxy.ts";
import { defineSuite, figureCases } from "./benchmark.ts";
import { WORKLOADS } from "./plugin-workloads.ts";
import { processCpuMicros } from "./process-cpu.ts";
import { ProcessTargets } from "./process-targets.ts";

const CONNECTIONS = 16;
const DURATION_S = 2;
const ROOT = new URL("..", import.meta.url).pathname;
/** Filter order on the chained listener (every HTTP plugin; tcp-routing is a network filter). */
const CHAIN = [
  "egress-blocklist",
  "regional-routing",
  "callout-enrichment",
  "header-mutation",
  "body-redaction",
  "api-observer",
  "http-timing",
];
/** Not under egress-blocklist's `.example.com`; regional-routing looks it up once per cache TTL. */
const AUTHORITY = "api.bench.local";

// One answer for everything: regional-routing reads `region`, callout-enrichment `name`, api-observer
// needs a 2xx, body-redaction finds a `SECRET=` to redact. Plain JavaScript in its own process.
const UPSTREAM_JS = `
import { createServer } from "node:http";
const body = Buffer.from('{"region":"us_east1","args":{"region":"us_east1"},"name":"bench","note":"SECRET=abc"}\\n');
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;

function wasmFilter(plugin: string): string {
  return wasmHttpFilter(join(ROOT, "plugins", plugin, "build/plugin.wasm"), {
    name: plugin,
    configuration: WORKLOADS[plugin]!.configuration,
  });
}

/** With the chain, routes follow regional-routing's `region` header, as in its envoy.yaml. */
function proxyYaml(upstreamPort: number, chained: boolean): string {
  const route = chained ? "{ cluster_header: region }" : "{ cluster: upstream }";
  const clusters = [
    "upstream",
    "us_east1",
    "us_central1",
    "discovery_service",
    "metadata",
    "ingestion-service",
  ];
  return httpBootstrap({
    listenerName: "bench",
    accessLog: false,
    admin: false,
    filters: chained ? CHAIN.map(wasmFilter).join("") : "",
    routes: `
              - match: { prefix: "/" }
                route: ${route}`,
    clusters: clusters.map((n) => staticCluster(n, upstreamPort)).join(""),
  });
}

type Target = "baseline" | "none" | "chain";
const targets = new ProcessTargets<Target>();
const lastP99 = new Map<Target, number>();
const lastCpu = new Map<Target, number>();

/** One autocannon run; returns wall µs per request and records its p99 and the target's CPU µs per request. */
async function measure(target: Target): Promise<number> {
  const pid = targets.pid(target);
  const cpuBefore = processCpuMicros(pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${targets.port(target)}/users/42`,
    headers: { host: AUTHORITY, "content-type": "application/json" },
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

function last(figures: Map<Target, number>, target: Target): number {
  const v = figures.get(target);
  if (v === undefined) throw new Error(`no throughput sample of ${target} yet`);
  return v;
}

const LABEL: Record<Target, string> = {
  baseline: "baseline node:http + undici",
  none: "pwts run, no filter",
  chain: `pwts run, all ${CHAIN.length} HTTP plugins chained`,
};
const COMPARED_WITH: Record<Target, Target | undefined> = {
  baseline: undefined,
  none: "baseline",
  chain: "none",
};
const TARGETS: Target[] = ["baseline", "none", "chain"];

const TARGET_SET = { targets: TARGETS, label: LABEL, comparedWith: COMPARED_WITH };

export default defineSuite({
  name: "chain",
  description: `All ${CHAIN.length} HTTP plugins chained on one pwts run listener (${CHAIN.join(" → ")}, shipped configurations, callouts answered by the upstream) vs pwts run with no filter vs node:http + undici: µs per request (1/throughput), proxy CPU µs per request, p99 ms; autocannon ${CONNECTIONS} connections, ${DURATION_S} s per sample.`,
  runs: 7,
  async setup() {
    // One at a time: compiling is CPU-bound and the machine has two cores.
    for (const plugin of CHAIN) await buildPlugin(join(ROOT, "plugins", plugin));
    const upstreamPort = await targets.helper(UPSTREAM_JS);
    await targets.server("baseline", BASELINE_REVERSE_PROXY_JS, [String(upstreamPort)]);
    for (const [target, chained] of [
      ["none", false],
      ["chain", true],
    ] as const)
      await targets.proxy(target, proxyYaml(upstreamPort, chained));
  },
  teardown: () => targets.stop(),
  cases: [
    ...figureCases(TARGET_SET, "µs/req", "µs/req", measure),
    ...figureCases(TARGET_SET, "CPU µs/req", "CPU µs/req", (t) => last(lastCpu, t)),
    ...figureCases(TARGET_SET, "p99", "ms", (t) => last(lastP99, t)),
  ],
});
