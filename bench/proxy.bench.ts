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

import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { noopPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { BASELINE_REVERSE_PROXY_JS } from "./baseline-reverse-proxy.ts";
import { defineSuite, figureCases, type TargetSet } from "./benchmark.ts";
import { CONNECTIONS, DURATION_S, fixedResponseUpstreamJs, HttpLoad } from "./http-load.ts";
import { ProcessTargets } from "./process-targets.ts";

const HEADER_MUTATION_DIR = new URL("../plugins/header-mutation", import.meta.url).pathname;
const UPSTREAM_JS = fixedResponseUpstreamJs("hello from the upstream\n", "text/plain");

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
const load = new HttpLoad(targets, { path: "/bench" });

const TARGET_SET: TargetSet<Target> = {
  targets: ["baseline", "none", "noop", "header"],
  label: {
    baseline: "baseline node:http + undici",
    none: "pwts run, no filter",
    noop: "pwts run, no-op Wasm filter",
    header: "pwts run, header mutation",
  },
  comparedWith: { baseline: undefined, none: "baseline", noop: "none", header: "none" },
};

export default defineSuite({
  name: "proxy",
  description: `µs per request (1/throughput), proxy CPU µs per request and p99 ms through pwts run (no filter, one no-op Wasm filter, header mutation) vs node:http + undici reverse proxy, autocannon ${CONNECTIONS} connections, ${DURATION_S} s per sample.`,
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
    ...figureCases(TARGET_SET, "µs/req", "µs/req", (t) => load.measure(t)),
    ...figureCases(TARGET_SET, "CPU µs/req", "CPU µs/req", (t) => load.lastCpu(t)),
    ...figureCases(TARGET_SET, "p99", "ms", (t) => load.lastP99(t)),
  ],
});
