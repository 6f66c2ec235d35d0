import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import {
  bufferingPluginWat,
  headerPluginWat,
  regionPluginWat,
  writePlugins,
} from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({
  header: headerPluginWat(),
  region: regionPluginWat(),
  buffering: bufferingPluginWat(),
});

describe("HTTP Wasm filters", { timeout: 30_000 }, () => {
  let us: TestUpstream;
  let eu: TestUpstream;
  let discovery: TestUpstream;
  const running: RunningTestProxy[] = [];

  before(async () => {
    us = await startUpstream("us");
    eu = await startUpstream("eu");
    discovery = await startUpstream("discovery");
    // The discovery service answers /region with "eu".
    discovery.server.removeAllListeners("request");
    discovery.server.on("request", (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("eu");
    });
  });

  after(async () => {
    for (const p of running) await p.close();
    await Promise.all([us?.close(), eu?.close(), discovery?.close()]);
  });

  async function start(yaml: string): Promise<RunningTestProxy> {
    const p = await startTestProxy(yaml);
    running.push(p);
    return p;
  }

  test("a TypedStruct-wrapped plugin edits request and response headers, logs and counts", async () => {
    const p = await start(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.header, { name: "headers", rootId: "headers_root" }),
        routes: `
              - match: { prefix: "/" }
                route: { cluster: us }`,
        clusters: staticCluster("us", us.port),
      }),
    );
    for (let i = 0; i < 3; i++) {
      const res = await request(`${p.url()}/get`);
      const body = (await res.body.json()) as { headers: Record<string, string> };
      assert.equal(body.headers["x-wasm"], "on");
      assert.equal(res.headers["x-wasm-response"], "on");
    }
    // Header bytes pass through the plugin unchanged, even when not valid UTF-8 (Node gives them as latin1).
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(p.port(), "127.0.0.1", () =>
        socket.write(
          Buffer.from(
            "GET /bytes HTTP/1.1\r\nhost: a\r\nx-bin: caf\xe9\r\nconnection: close\r\n\r\n",
            "latin1",
          ),
        ),
      );
      let got = "";
      socket.on("data", (d: Buffer) => {
        got += d.toString("utf8");
      });
      socket.on("end", () => resolve(got));
      socket.on("error", reject);
    });
    assert.match(raw, /"x-bin":"caf\u00e9"/);
    const prom = await (await request(`${p.adminUrl()}/stats/prometheus`)).body.text();
    assert.match(prom, /^# TYPE wasm_requests_total counter\nwasm_requests_total\{\} 4\n$/m);
    assert.match(prom, /envoy_cluster_upstream_rq_total\{envoy_cluster_name="us"\} 4/);
    // Envoy's order: all counters (plugin ones included, by name), then gauges, then histograms.
    const types = [...prom.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    const kinds = types.map(([, t]) => t);
    assert.deepEqual(
      kinds,
      [...kinds].sort(
        (a, b) => ["counter", "gauge", "histogram"].indexOf(a) - ["counter", "gauge", "histogram"].indexOf(b),
      ),
    );
    const counters = types.filter(([, t]) => t === "counter").map(([n]) => n);
    assert.deepEqual(counters, [...counters].sort());
    const stats = await (await request(`${p.adminUrl()}/stats`)).body.text();
    assert.match(stats, /^wasm_requests_total: 4$/m);
    const logLine = p.stderr.find((l) => l.includes("header plugin saw a request"));
    assert.match(
      logLine ?? "",
      /\]\[info\]\[wasm\] wasm log headers headers_root: header plugin saw a request\n$/,
    );
  });

  test("pause, callout to a cluster, clear_route_cache and resume re-route the request", async () => {
    const p = await start(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.region, { name: "region" }),
        routes: `
              - match: { prefix: "/", headers: [{ name: region, string_match: { exact: eu } }] }
                route: { cluster: eu }
              - match: { prefix: "/" }
                route: { cluster: us }`,
        clusters:
          staticCluster("us", us.port) +
          staticCluster("eu", eu.port) +
          staticCluster("discovery", discovery.port),
      }),
    );
    const res = await request(`${p.url()}/anything`, { method: "POST", body: "payload" });
    const body = (await res.body.json()) as { name: string; body: string; headers: Record<string, string> };
    assert.equal(body.name, "eu");
    assert.equal(body.headers.region, "eu");
    assert.equal(body.body, "payload");
  });

  test("bodies are buffered while paused and may be replaced; over the buffer limit: 413, or a reset", async () => {
    const p = await start(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.buffering, { name: "buffering" }),
        listenerExtra: "\n    per_connection_buffer_limit_bytes: 4096",
        routes: `
              - match: { prefix: "/" }
                route: { cluster: us }`,
        clusters: staticCluster("us", us.port),
      }),
    );
    const res = await request(`${p.url()}/anything`, { method: "POST", body: "secret=1234" });
    const body = (await res.body.text()) as string;
    assert.equal(res.statusCode, 200);
    assert.equal(body, "BUFFERED");
    assert.equal(us.seen.at(-1)?.body, "REDACTED");
    const seenBefore = us.seen.length;
    const big = await request(`${p.url()}/anything`, { method: "POST", body: Buffer.alloc(20_000, 120) });
    assert.equal(big.statusCode, 413);
    // The local reply runs through the response filters, as Envoy's does: this plugin rewrites its body too.
    await big.body.text();
    assert.equal(us.seen.length, seenBefore, "the upstream must not see an over-limit request");
    // The plugin let the response headers through, so (as in Envoy) an over-limit response body resets
    // the stream instead of a 500.
    await assert.rejects(async () => {
      const r = await request(`${p.url()}/big/20000`);
      await r.body.text();
    });
    const ok = await request(`${p.url()}/anything`, { method: "POST", body: "still served" });
    assert.equal(ok.statusCode, 200);
    await ok.body.text();
  });
});
