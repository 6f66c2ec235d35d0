/**
 * The local data plane under load: requests/s (as µs per request, lower is better) and p99 latency through
 * `pwts run` with no filter, with one no-op Wasm filter and with the header-mutation plugin, against a plain
 * Node.js reverse proxy (node:http + undici) measured in the same run. Load comes from autocannon; every
 * proxy and the upstream run in their own processes so the load generator does not share their event loop.
 *
 * Targets (issue 4), as ratios to compare in the table: no filter ≥ 0.9× the baseline's throughput (µs/req
 * ratio ≤ 1.11); one Wasm filter costs ≤ 10% of the no-filter throughput.
 * HTTP/2 (h2c, h2load with the same number of requests in flight) through the same no-filter and no-op
 * proxies, as the no-op filter's cost on HTTP/2 next to its cost on HTTP/1.1.
 * The p99 and CPU cases report figures of the latest throughput sample of the same target (no extra load run);
 * "CPU µs/req" is the proxy process's own CPU time per request, the steadiest figure on a shared machine.
 */

import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { noopPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { BASELINE_REVERSE_PROXY_JS } from "./baseline-reverse-proxy.ts";
import { defineSuite, figureCases, type TargetSet } from "./benchmark.ts";
import { H2Load, requireH2load } from "./h2-load.ts";
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
// The same no-filter and no-op proxies answer HTTP/2 too (codec_type AUTO, h2c with prior knowledge).
const h2 = new H2Load(targets, "/bench");
const H2_SET: TargetSet<Target> = {
  targets: ["none", "noop"],
  label: {
    baseline: "",
    none: "HTTP/2 pwts run, no filter",
    noop: "HTTP/2 pwts run, no-op Wasm filter",
    header: "",
  },
  comparedWith: { baseline: undefined, none: undefined, noop: "none", header: undefined },
};

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
  description: `µs per request (1/throughput), proxy CPU µs per request and p99 ms through pwts run (no filter, one no-op Wasm filter, header mutation) vs node:http + undici reverse proxy, autocannon ${CONNECTIONS} connections, ${DURATION_S} s per sample; HTTP/2 (h2c) no filter and no-op filter with h2load, the same requests in flight.`,
  runs: 9,
  async setup() {
    await requireH2load();
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
    ...figureCases(H2_SET, "µs/req", "µs/req", (t) => h2.measure(t)),
    ...figureCases(H2_SET, "CPU µs/req", "CPU µs/req", (t) => h2.lastCpu(t)),
  ],
});
