/**
 * tcp-routing's behaviour, asserted against a built plugin directory: the AssemblyScript plugin and its
 * TypeScript twin (plugins/tcp-routing-ts) run the same tests.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Action, Status } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildPlugin } from "./plugin-build.ts";
import { rejectedConfigurationLogs } from "./plugin-harness.ts";
import { readmeJsonExamples } from "./shipped-configs.ts";

/** The harness tests (unit.test.ts) for the plugin in `pluginDir`. */
export function tcpRoutingUnitTests(pluginDir: string): void {
  let wasm: Uint8Array;

  before(async () => {
    wasm = await buildPlugin(pluginDir);
  });

  async function route(source: string | undefined, configuration = "") {
    const t = await startPlugin(wasm, { name: "tcp-routing", configuration });
    const tcp = t.tcp(source === undefined ? {} : { "source.address": source });
    const action = tcp.newConnection();
    return { t, tcp, action, cluster: tcp.upstreamCluster };
  }

  describe("tcp-routing", { timeout: 60_000 }, () => {
    test("even IPv4 last octet goes to egress-router1, odd to egress-router2, and the decision is logged", async () => {
      const even = await route("127.0.0.10:42148");
      assert.equal(even.action, Action.Continue);
      assert.equal(even.cluster, "egress-router1");
      assert.deepEqual(even.t.logs("info"), ["Routed source 127.0.0.10:42148 to egress-router1"]);
      const odd = await route("172.22.0.11:35736");
      assert.equal(odd.cluster, "egress-router2");
      assert.deepEqual(odd.t.logs("info"), ["Routed source 172.22.0.11:35736 to egress-router2"]);
    });

    test("addresses without a port route by the same rule", async () => {
      assert.equal((await route("10.1.2.254")).cluster, "egress-router1");
      assert.equal((await route("10.1.2.3")).cluster, "egress-router2");
    });

    test("IPv6 routes by the last byte of the last hex group, with or without port", async () => {
      assert.equal((await route("[2001:db8::a]:443")).cluster, "egress-router1");
      assert.equal((await route("[2001:db8::1:ff0b]:443")).cluster, "egress-router2");
      assert.equal((await route("2001:db8:0:0:0:0:0:1f")).cluster, "egress-router2");
      assert.equal((await route("::1")).cluster, "egress-router2");
      assert.equal((await route("fe80::2%eth0")).cluster, "egress-router1");
      // An IPv4 peer on a dual-stack socket routes as its IPv4 address.
      assert.equal((await route("[::ffff:10.0.0.11]:5000")).cluster, "egress-router2");
    });

    test("a malformed or missing source address keeps the default cluster and says why", async () => {
      for (const bad of ["not-an-ip", "300.1.1.1:80", "10.0.0.1:99999", "[::1", "1:2:3", "10.0.0:80", ""]) {
        const r = await route(bad);
        assert.equal(r.action, Action.Continue, bad);
        assert.equal(r.cluster, undefined, bad);
        assert.equal(r.t.logs("warn").length, 1, bad);
      }
      const missing = await route(undefined);
      assert.equal(missing.cluster, undefined);
      assert.match(missing.t.logs("warn")[0] ?? "", /default cluster kept/);
    });

    test("cluster names are configurable, Istio's outbound|PORT||host included", async () => {
      const configuration = JSON.stringify({
        even_cluster: "outbound|8080||egress-router1.default.svc.cluster.local",
        odd_cluster: "outbound|8080||egress-router2.default.svc.cluster.local",
      });
      const r = await route("10.244.0.7:51000", configuration);
      assert.equal(r.cluster, "outbound|8080||egress-router2.default.svc.cluster.local");
      assert.deepEqual(r.t.logs("info"), [
        "Routed source 10.244.0.7:51000 to outbound|8080||egress-router2.default.svc.cluster.local",
      ]);
    });

    test("the cidr rule picks the first matching prefix, and no match keeps the default", async () => {
      const configuration = JSON.stringify({
        rule: "cidr",
        routes: [
          { cidr: "10.0.0.0/24", cluster: "local-a" },
          { cidr: "10.0.0.0/8", cluster: "wide-b" },
          { cidr: "2001:db8::/32", cluster: "v6-c" },
        ],
      });
      assert.equal((await route("10.0.0.9:1", configuration)).cluster, "local-a");
      assert.equal((await route("10.7.0.9:1", configuration)).cluster, "wide-b");
      assert.equal((await route("[2001:db8:1::5]:1", configuration)).cluster, "v6-c");
      const none = await route("192.168.1.1:1", configuration);
      assert.equal(none.cluster, undefined);
      assert.match(none.t.logs("info")[0] ?? "", /no route matches source 192\.168\.1\.1:1/);
    });

    test("an invalid configuration is rejected with the reason", async () => {
      for (const [configuration, reason] of [
        ["{not json", /not a JSON object/],
        [JSON.stringify({ rule: "random" }), /rule must be/],
        [JSON.stringify({ even_cluster: "" }), /even_cluster/],
        [
          JSON.stringify({ rule: "cidr", routes: [{ cidr: "10.0.0.0/33", cluster: "x" }] }),
          /routes\[0\]\.cidr/,
        ],
        [JSON.stringify({ rule: "cidr" }), /needs routes/],
        [JSON.stringify({ odd: "x" }), /unknown field "odd"/],
      ] as const) {
        const logs = await rejectedConfigurationLogs(pluginDir, configuration);
        assert.match(logs.join("\n"), reason);
      }
    });

    test("a host without the tcp_proxy filter-state key keeps the default and logs an error", async () => {
      const t = await startPlugin(wasm, {
        name: "tcp-routing",
        foreignFunctions: { set_envoy_filter_state: () => Status.BadArgument },
      });
      const tcp = t.tcp({ "source.address": "10.0.0.2:1000" });
      assert.equal(tcp.newConnection(), Action.Continue);
      assert.equal(tcp.upstreamCluster, undefined);
      assert.match(t.logs("error")[0] ?? "", /envoy\.tcp_proxy\.cluster.*failed/);
    });

    test("the configuration examples in README.md are accepted", async () => {
      const examples = await readmeJsonExamples(pluginDir);
      assert.ok(examples.length > 0);
      for (const configuration of examples) await startPlugin(wasm, { name: "tcp-routing", configuration });
    });
  });
}
