/**
 * regional-routing's end-to-end behaviour on the local data plane, for the AssemblyScript plugin and its
 * TypeScript twin (plugins/regional-routing-ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type DiscoveryServer, startDiscovery } from "@proxy-wasm-ts/discovery";
import { type EchoServer, startEcho } from "@proxy-wasm-ts/echo";
import { type HttpAnswer, sendRequest } from "./http-client.ts";
import { type InProcessDataPlane, startInProcessDataPlane } from "./in-process-data-plane.ts";
import { buildPlugin } from "./plugin-build.ts";

/** The end-to-end tests (e2e.test.ts) for the plugin in `pluginDir`, run with its envoy.yaml. */
export function regionalRoutingEndToEndTests(pluginDir: string): void {
  let east: EchoServer;
  let central: EchoServer;
  let discovery: DiscoveryServer;
  let envoy: InProcessDataPlane;

  /** GET `path` through the proxy's listener with Host `host`. */
  function get(host: string, path = "/get"): Promise<HttpAnswer> {
    return sendRequest(envoy.url(path), { headers: { host } });
  }

  describe("regional-routing envoy.yaml on the local data plane", { timeout: 120_000 }, () => {
    before(async () => {
      await buildPlugin(pluginDir);
      east = await startEcho({ host: "127.0.0.1", name: "us_east1" });
      central = await startEcho({ host: "127.0.0.1", name: "us_central1" });
      discovery = await startDiscovery({
        host: "127.0.0.1",
        mapping: {
          hosts: { "api.example.com": "us_central1", "httpbin.org": "us_east1", "evil.example": "admin" },
        },
      });
      envoy = await startInProcessDataPlane(pluginDir, {
        us_east1: east,
        us_central1: central,
        discovery_service: discovery,
      });
    });

    after(async () => {
      await envoy?.close();
      await Promise.all([east?.close(), central?.close(), discovery?.close()]);
    });

    test("requests reach the cluster of their host's region, with Processed-By", async () => {
      const central1 = await get("api.example.com");
      assert.equal(central1.status, 200);
      assert.equal(central1.headers["x-echo-name"], "us_central1");
      assert.equal(central1.headers["processed-by"], "Regional Router");
      const east1 = await get("httpbin.org:10000");
      assert.equal(east1.headers["x-echo-name"], "us_east1");
      // The upstream saw the region header the plugin set.
      assert.equal(JSON.parse(east1.body).headers.Region, "us_east1");
      await envoy.waitForOutput(/host=api\.example\.com region=us_central1 cluster=us_central1 status=200/);
    });

    test("unknown hosts and regions outside allowed_regions get a 503 with the reason", async () => {
      const unknown = await get("nobody.example");
      assert.equal(unknown.status, 503);
      assert.match(unknown.body, /knows no region/);
      const evil = await get("evil.example");
      assert.equal(evil.status, 503);
      assert.match(evil.body, /not an allowed cluster name/);
    });

    test("a cached host keeps working when discovery goes down; an unseen one gets a 503", async () => {
      await get("api.example.com"); // cached from the first test as well
      await discovery.close();
      const cached = await get("api.example.com");
      assert.equal(cached.headers["x-echo-name"], "us_central1");
      const unseen = await get("new.example.com");
      assert.equal(unseen.status, 503);
      // Envoy's async client answers a connect failure with its router's 503 reply, as a response.
      assert.match(unseen.body, /discovery service answered HTTP 503/);
    });
  });
}
