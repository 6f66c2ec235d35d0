/**
 * regional-routing's behaviour, asserted against a built plugin directory: the AssemblyScript plugin and its
 * TypeScript twin (plugins/regional-routing-ts) run the same tests.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Action } from "@proxy-wasm-ts/host";
import { type PluginHarness, startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildPlugin } from "./plugin-build.ts";
import { rejectedConfigurationLogs } from "./plugin-harness.ts";
import { readmeJsonExamples } from "./shipped-configs.ts";

/** The harness tests (unit.test.ts) for the plugin in `pluginDir`. */
export function regionalRoutingUnitTests(pluginDir: string): void {
  let wasm: Uint8Array;

  before(async () => {
    wasm = await buildPlugin(pluginDir);
  });

  function start(config: Record<string, unknown> = {}): Promise<PluginHarness> {
    return startPlugin(wasm, {
      name: "regional-routing",
      configuration: JSON.stringify({
        discovery_cluster: "discovery_service",
        discovery_authority: "discovery",
        ...config,
      }),
      clusters: ["discovery_service"],
    });
  }

  function request(t: PluginHarness, authority: string | null, extra: Array<[string, string]> = []) {
    const http = t.http();
    const headers: Array<[string, string]> = [
      [":method", "GET"],
      [":path", "/get"],
      [":scheme", "http"],
      ...extra,
    ];
    if (authority !== null) headers.push([":authority", authority]);
    const action = http.requestHeaders(headers, true);
    return { http, action };
  }

  const json = (value: unknown) => ({
    headers: [[":status", "200"]] as Array<[string, string]>,
    body: JSON.stringify(value),
  });

  describe("regional-routing", { timeout: 60_000 }, () => {
    test("asks discovery for the host's region with the request paused, then routes and resumes", async () => {
      const t = await start();
      const { http, action } = request(t, "API.example.com:8443");
      assert.equal(action, Action.Pause);
      assert.equal(t.httpCalls.length, 1);
      const call = t.httpCalls[0]!;
      assert.equal(call.cluster, "discovery_service");
      assert.equal(call.header(":path"), "/v1/region?host=api.example.com");
      assert.equal(call.header(":authority"), "discovery");
      assert.equal(http.events.requestResumed, 0);
      call.respond(json({ host: "api.example.com", region: "us_central1", args: { region: "us_central1" } }));
      assert.equal(http.requestHeader("region"), "us_central1");
      assert.equal(http.events.routeCacheClears, 1);
      assert.equal(http.events.requestResumed, 1);
      http.responseHeaders([[":status", "200"]], true);
      assert.equal(http.responseHeader("processed-by"), "Regional Router");
    });

    test("the seed's httpbin answer shape (args.region) works too", async () => {
      const t = await start();
      const { http } = request(t, "httpbin.org");
      t.httpCalls[0]!.respond(json({ args: { region: "us_east1" } }));
      assert.equal(http.requestHeader("region"), "us_east1");
    });

    test("a hot host is served from the cache without a callout until the TTL passes", async () => {
      const t = await start({ cache_ttl_ms: 5000 });
      request(t, "api.example.com");
      t.httpCalls[0]!.respond(json({ region: "us_central1" }));
      const second = request(t, "api.example.com:443");
      assert.equal(second.action, Action.Continue);
      assert.equal(second.http.requestHeader("region"), "us_central1");
      assert.equal(second.http.events.routeCacheClears, 1);
      assert.equal(t.httpCalls.length, 1);
      assert.equal(t.counter("regional_routing_cache_hits_total"), 1n);
      t.advance(5001);
      assert.equal(request(t, "api.example.com").action, Action.Pause);
      assert.equal(t.httpCalls.length, 2);
    });

    test("a client-sent region header is overwritten, never trusted", async () => {
      const t = await start();
      const { http } = request(t, "api.example.com", [["region", "internal_admin"]]);
      t.httpCalls[0]!.respond(json({ region: "us_east1" }));
      assert.deepEqual(
        http.requestHeadersList.filter(([n]) => n === "region"),
        [["region", "us_east1"]],
      );
    });

    test("discovery down, slow, or answering garbage: 503 with the reason when no fallback is set", async () => {
      const cases: Array<[string, (t: PluginHarness) => void, RegExp]> = [
        ["down", (t) => t.httpCalls[0]!.fail(), /did not answer/],
        // Envoy answers a timed-out callout with its own 504 response ("upstream request timeout"), not a
        // failure: the AssemblyScript twin reads that 504; the TypeScript runtime rejects the awaited call.
        [
          "slow",
          (t) => t.advance(1001),
          /discovery service answered HTTP 504|did not answer \(HTTP callout timed out\)/,
        ],
        [
          "500",
          (t) => t.httpCalls[0]!.respond({ headers: [[":status", "500"]], body: "oops" }),
          /answered HTTP 500/,
        ],
        [
          "404",
          (t) => t.httpCalls[0]!.respond({ headers: [[":status", "404"]], body: "{}" }),
          /knows no region/,
        ],
        [
          "not json",
          (t) => t.httpCalls[0]!.respond({ headers: [[":status", "200"]], body: "<html>" }),
          /not a JSON/,
        ],
        [
          "binary",
          (t) =>
            t.httpCalls[0]!.respond({ headers: [[":status", "200"]], body: new Uint8Array([0xff, 0, 0xfe]) }),
          /not a JSON/,
        ],
        ["no region", (t) => t.httpCalls[0]!.respond(json({ zone: "x" })), /no string region/],
        ["number", (t) => t.httpCalls[0]!.respond(json({ region: 7 })), /no string region/],
        [
          "bad name",
          (t) => t.httpCalls[0]!.respond(json({ region: "us east\n1" })),
          /not an allowed cluster name/,
        ],
        ["huge", (t) => t.httpCalls[0]!.respond(json({ region: "x".repeat(20_000) })), /too large/],
      ];
      for (const [name, outcome, reason] of cases) {
        const t = await start({ timeout_ms: 1000 });
        const { http, action } = request(t, "api.example.com");
        assert.equal(action, Action.Pause, name);
        outcome(t);
        const reply = http.localReply;
        assert.equal(reply?.statusCode, 503, name);
        assert.match(http.localReplyBodyText ?? "", reason, name);
        assert.equal(reply?.details, "regional_routing_no_region", name);
        assert.equal(http.events.requestResumed, 0, name);
        assert.equal(http.requestHeader("region"), undefined, name);
        assert.equal(t.counter("regional_routing_rejected_total"), 1n, name);
      }
    });

    test("with fallback_region, failures route to it and resume", async () => {
      const t = await start({ fallback_region: "us_east1" });
      const { http } = request(t, "api.example.com");
      t.httpCalls[0]!.fail();
      assert.equal(http.localReply, null);
      assert.equal(http.requestHeader("region"), "us_east1");
      assert.equal(http.events.requestResumed, 1);
      assert.equal(http.events.routeCacheClears, 1);
      assert.equal(t.counter("regional_routing_fallbacks_total"), 1n);
      assert.match(t.logs("info").join("\n"), /routed to fallback region us_east1/);
    });

    test("an outage after a known answer keeps using the last known region", async () => {
      const t = await start({ cache_ttl_ms: 1000 });
      request(t, "api.example.com");
      t.httpCalls[0]!.respond(json({ region: "us_central1" }));
      t.advance(2000);
      const { http } = request(t, "api.example.com");
      t.httpCalls[1]!.fail();
      assert.equal(http.localReply, null);
      assert.equal(http.requestHeader("region"), "us_central1");
      assert.equal(http.events.requestResumed, 1);
    });

    test("allowed_regions limits what discovery may choose", async () => {
      const t = await start({ allowed_regions: ["us_east1", "us_central1"], fallback_region: "us_east1" });
      const { http } = request(t, "api.example.com");
      t.httpCalls[0]!.respond(json({ region: "europe_west1" }));
      assert.equal(http.requestHeader("region"), "us_east1");
    });

    test("no :authority gets a 503 without a callout; an unknown discovery cluster falls back at once", async () => {
      const t = await start();
      const missing = request(t, null);
      assert.equal(missing.action, Action.Pause);
      assert.equal(missing.http.localReply?.statusCode, 503);
      assert.equal(t.httpCalls.length, 0);

      const fallback = await start({ discovery_cluster: "nowhere", fallback_region: "us_east1" });
      const unknown = request(fallback, "api.example.com");
      assert.equal(unknown.action, Action.Continue);
      assert.equal(unknown.http.requestHeader("region"), "us_east1");
    });

    test("hostile hosts are percent-encoded in the lookup", async () => {
      const t = await start();
      request(t, "a&b=c#d.example");
      assert.equal(t.httpCalls[0]!.header(":path"), "/v1/region?host=a%26b%3Dc%23d.example");
    });

    test("an invalid configuration is rejected with the reason", async () => {
      for (const [configuration, reason] of [
        ["[]", /not a JSON object/],
        [JSON.stringify({ timeout_ms: 0 }), /timeout_ms must be an integer/],
        [JSON.stringify({ discovery_path: "v1/region" }), /must start with \//],
        [JSON.stringify({ fallback_region: "bad name" }), /fallback_region/],
        [JSON.stringify({ allowed_regions: ["a"], fallback_region: "b" }), /fallback_region/],
        [JSON.stringify({ cache: 1 }), /unknown field "cache"/],
      ] as const) {
        const logs = await rejectedConfigurationLogs(pluginDir, configuration);
        assert.match(logs.join("\n"), reason);
      }
    });

    test("the configuration examples in README.md are accepted", async () => {
      const examples = await readmeJsonExamples(pluginDir);
      assert.ok(examples.length > 0);
      for (const configuration of examples)
        await startPlugin(wasm, { name: "regional-routing", configuration });
    });
  });
}
