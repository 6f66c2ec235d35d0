import assert from "node:assert/strict";
import { before, test } from "node:test";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./support/fixture-build.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("root-services");
});

const GET: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/orders?id=7"],
  [":authority", "shop.local"],
];

async function start() {
  return startPlugin(wasm, {
    name: "services",
    vmConfiguration: "vm-config-bytes",
    configuration: '{"k":1}',
    nodeProperties: { "node.metadata": { NAME: "pod-7" } },
  });
}

test("configuration: VM and plugin configuration bytes reach onVmStart and onConfigure", {
  timeout: 60_000,
}, async () => {
  const plugin = await start();
  assert.ok(plugin.logs("info").includes("vm configuration: vm-config-bytes"));
  assert.ok(plugin.logs("info").includes('configured: {"k":1}'));
});

test("properties and attributes: source address, path, node metadata, plugin name", {
  timeout: 60_000,
}, async () => {
  const plugin = await start();
  const http = plugin.http({ "source.address": "10.1.2.3:4567", "source.port": 4567 });
  http.requestHeaders(GET, true);
  assert.equal(http.requestHeader("x-source"), "10.1.2.3:4567");
  assert.equal(http.requestHeader("x-source-port"), "4567");
  assert.equal(http.requestHeader("x-path"), "/orders?id=7");
  assert.equal(http.requestHeader("x-node"), "pod-7");
  assert.equal(http.requestHeader("x-plugin"), "services");
  assert.equal(http.requestHeader("x-time-positive"), "yes");
  assert.equal(http.requestHeader("x-log-level"), "0");
  assert.equal(http.filterState("my_state"), "from-plugin", "set_property lands under wasm.<path>");
  http.complete();
});

test("map attributes: decoded when well formed, null when the bytes are malformed", {
  timeout: 60_000,
}, async () => {
  const plugin = await start();
  const good = plugin.http({ "custom.map": { a: "1", b: "2" } });
  good.requestHeaders(GET, true);
  assert.equal(good.requestHeader("x-custom-map"), "2 pairs");
  good.complete();
  // Claims 5 pairs in 5 bytes.
  const bad = plugin.http({ "custom.map": new Uint8Array([5, 0, 0, 0, 1]) });
  bad.requestHeaders(GET, true);
  assert.equal(bad.requestHeader("x-custom-map"), "null");
  assert.equal(plugin.plugin.failed, false);
  bad.complete();
});

test("Envoy helpers: set_envoy_filter_state protobuf, clear_route_cache, unknown foreign function", {
  timeout: 60_000,
}, async () => {
  const plugin = await start();
  const http = plugin.http();
  http.requestHeaders([...GET, ["x-reroute", "1"]], true);
  assert.equal(http.filterState("envoy.tcp_proxy.cluster"), "cluster-from-http");
  assert.equal(http.events.routeCacheClears, 1);
  assert.equal(http.requestHeader("x-ffi-missing"), "1", "NotFound is a status the plugin reads");
  http.complete();
});

test("metrics: counter, gauge, histogram and tagged counter", { timeout: 60_000 }, async () => {
  const plugin = await start();
  for (const status of ["200", "200", "503"]) {
    const http = plugin.http();
    http.requestHeaders(GET, true);
    http.responseHeaders([[":status", status]], true);
    http.complete();
  }
  assert.equal(plugin.counter("requests_total"), 3n);
  assert.equal(plugin.gauge("active_requests"), 0n);
  assert.deepEqual(plugin.histogram("latency_ms"), [7n, 7n, 7n]);
  assert.equal(plugin.counter("responses_total_code=200"), 2n);
  assert.equal(plugin.counter("responses_total_code=503"), 1n);
});

test("shared data with CAS: every tick increments the shared counter", { timeout: 60_000 }, async () => {
  const plugin = await start();
  assert.equal(plugin.tickPeriodMs, 1000);
  plugin.tick();
  plugin.tick();
  assert.equal(plugin.sharedData("ticks"), "2");
  plugin.advance(3000);
  assert.equal(plugin.sharedData("ticks"), "5");
});

test("a root context resumes postponed requests on its tick (effective context switched)", {
  timeout: 60_000,
}, async () => {
  const plugin = await start();
  const first = plugin.http();
  const second = plugin.http();
  const third = plugin.http();
  first.requestHeaders([...GET, ["x-postpone", "1"]], true);
  second.requestHeaders(GET, true);
  third.requestHeaders([...GET, ["x-postpone", "1"]], true);
  assert.equal(first.events.requestResumed + third.events.requestResumed, 0);
  plugin.tick();
  assert.equal(first.events.requestResumed, 1);
  assert.equal(third.events.requestResumed, 1);
  assert.equal(second.events.requestResumed, 0, "a request that was never paused is not resumed");
  for (const http of [first, second, third]) http.complete();
});

test("shared data: the CAS update builds on a value another writer stored", { timeout: 60_000 }, async () => {
  const plugin = await start();
  plugin.setSharedData("ticks", "10");
  plugin.tick();
  assert.equal(plugin.sharedData("ticks"), "11");
});

test("queues: items enqueued by streams are dequeued by the root on queue-ready", {
  timeout: 60_000,
}, async () => {
  const plugin = await start();
  const http = plugin.http();
  http.requestHeaders(GET, true);
  http.complete();
  assert.ok(plugin.logs("info").includes("dequeued /orders?id=7"));
  assert.ok(plugin.enqueue("events", "from-test"));
  assert.ok(plugin.logs("info").includes("dequeued from-test"));
  assert.ok(
    plugin.logs("info").includes("queue drained with status 7"),
    "an empty queue reads as Empty, not a trap",
  );
});

test("foreign function callbacks reach the root context with their arguments", {
  timeout: 60_000,
}, async () => {
  const plugin = await start();
  plugin.callOnForeignFunction(3, "args");
  assert.ok(plugin.logs("info").includes("foreign 3: args"));
});

test("logging at several levels", { timeout: 60_000 }, async () => {
  const plugin = await start();
  const http = plugin.http();
  http.requestHeaders(GET, true);
  http.complete();
  assert.ok(plugin.logs("debug").includes("request seen"));
});

test("shutdown with pending work: onDone returns false, done() after the flush callout", {
  timeout: 60_000,
}, async () => {
  const plugin = await start();
  plugin.shutdown();
  const flush = plugin.httpCalls.find((c) => c.cluster === "flush");
  assert.ok(flush, "the root context flushes on shutdown");
  assert.equal(plugin.plugin.root.awaitingDone, true);
  flush.respond({ headers: [[":status", "200"]] });
  assert.ok(plugin.logs("info").includes("flushed, done: 0"));
  assert.equal(plugin.plugin.root.awaitingDone, false);
});
