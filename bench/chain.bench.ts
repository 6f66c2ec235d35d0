/**
 * Every HTTP plugin chained on one `pwts run` listener, under load: µs per request (1/throughput), the
 * proxy process's CPU µs per request and p99, against `pwts run` with no filter and against a plain
 * Node.js reverse proxy (node:http + undici), all measured in the same run with autocannon.
 *
 * The chain runs each plugin with its shipped configuration (plugin-workloads.ts: its envoy.yaml, except
 * http-timing with its default, metrics only and no log line per request, as its wasmplugin.yaml ships
 * it), in the order a platform team would stack them: block first, route, enrich, mutate, redact,
 * observe, time. Every callout cluster (discovery, metadata, ingestion) and both regions point at the one
 * upstream, which answers every request with a JSON body that satisfies each plugin: so each request does
 * the chain's real work, including callout-enrichment's callout per request and api-observer's batch
 * posts. The proxy suite
 * (proxy.bench.ts) has the no-op and single-plugin cases; this one adds the whole chain.
 */

import { join } from "node:path";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { BASELINE_REVERSE_PROXY_JS } from "./baseline-reverse-proxy.ts";
import { defineSuite, figureCases } from "./benchmark.ts";
import { CONNECTIONS, DURATION_S, fixedResponseUpstreamJs, HttpLoad } from "./http-load.ts";
import { WORKLOADS } from "./plugin-workloads.ts";
import { ProcessTargets } from "./process-targets.ts";

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
// needs a 2xx, body-redaction finds a `SECRET=` to redact.
const UPSTREAM_JS = fixedResponseUpstreamJs(
  '{"region":"us_east1","args":{"region":"us_east1"},"name":"bench","note":"SECRET=abc"}\n',
  "application/json",
);

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

type Target = "baseline" | "none" | "chain" | "chainNoLimit";
const targets = new ProcessTargets<Target>();
const load = new HttpLoad(targets, {
  path: "/users/42",
  headers: { host: AUTHORITY, "content-type": "application/json" },
});

const LABEL: Record<Target, string> = {
  baseline: "baseline node:http + undici",
  none: "pwts run, no filter",
  chain: `pwts run, all ${CHAIN.length} HTTP plugins chained`,
  chainNoLimit: `pwts run --callback-timeout 0, all ${CHAIN.length} HTTP plugins chained`,
};
const COMPARED_WITH: Record<Target, Target | undefined> = {
  baseline: undefined,
  none: "baseline",
  chain: "none",
  chainNoLimit: "none",
};
const TARGETS: Target[] = ["baseline", "none", "chain", "chainNoLimit"];

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
    await targets.proxy("none", proxyYaml(upstreamPort, false));
    await targets.proxy("chain", proxyYaml(upstreamPort, true));
    // Envoy has no callback time limit; pwts run's default (1 s) instruments every module. What that costs:
    await targets.proxy("chainNoLimit", proxyYaml(upstreamPort, true), ["--callback-timeout", "0"]);
  },
  teardown: () => targets.stop(),
  cases: [
    ...figureCases(TARGET_SET, "µs/req", "µs/req", (t) => load.measure(t)),
    ...figureCases(TARGET_SET, "CPU µs/req", "CPU µs/req", (t) => load.lastCpu(t)),
    ...figureCases(TARGET_SET, "p99", "ms", (t) => load.lastP99(t)),
  ],
});
