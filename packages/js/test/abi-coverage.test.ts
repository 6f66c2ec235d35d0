// Every area of the ABI reached from TypeScript, watched in the host: metrics, shared data with CAS, shared
// queues, ticks, properties, header maps, bodies, trailers, the log phase, and TCP data.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { Action } from "@proxy-wasm-ts/host";
import { type PluginHarness, startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./build-fixture.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("abi-coverage");
});

const start = (): Promise<PluginHarness> => startPlugin(wasm, { name: "coverage" });

test("headers, properties, metrics and shared data with compare-and-swap", { timeout: 120_000 }, async () => {
  const t = await start();
  for (const visit of ["1", "2"]) {
    const http = t.http();
    http.requestHeaders(
      [
        [":method", "POST"],
        [":path", "/items"],
        [":authority", "example.com"],
        ["x-remove-me", "1"],
      ],
      false,
    );
    assert.equal(http.requestHeader("x-visits"), visit);
    assert.equal(http.requestHeader("x-stale-cas-accepted"), "false");
    assert.equal(http.requestHeader("x-path-property"), "/items");
    assert.equal(http.requestHeader("x-remove-me"), undefined);
    assert.deepEqual(
      http.requestHeadersList.filter(([name]) => name === "x-multi").map(([, value]) => value),
      ["a", "b"],
    );
    assert.equal(http.filterState("coverage.seen"), "yes");
  }
  assert.equal(t.sharedData("visits"), "2");
  assert.equal(t.counter("coverage_requests_total"), 2n);
  assert.equal(t.gauge("coverage_in_flight"), 3n);
});

test("bodies are buffered until the end and rewritten; trailers and the log phase are reached", {
  timeout: 120_000,
}, async () => {
  const t = await start();
  const http = t.http();
  http.requestHeaders([
    [":method", "POST"],
    [":path", "/"],
    [":authority", "example.com"],
  ]);
  assert.equal(http.requestBody("hello ", false), Action.Pause);
  http.requestBody("world", true);
  assert.equal(http.requestBodyText, "HELLO WORLD");
  assert.deepEqual(t.histogram("coverage_body_bytes"), [11n]);
  http.responseHeaders([[":status", "200"]]);
  http.responseBody("ok", true);
  assert.equal(http.responseBodyText, "ok (checked)");
  http.complete();
  assert.ok(t.logs("info").some((line) => /log phase for context \d+/.test(line)));

  const withTrailers = t.http();
  withTrailers.requestHeaders([
    [":method", "POST"],
    [":path", "/"],
  ]);
  withTrailers.requestTrailers([["grpc-status", "0"]]);
  assert.equal(withTrailers.requestTrailersList.find(([name]) => name === "x-trailer-seen")?.[1], "0");
});

test("ticks and shared queues reach their handlers", { timeout: 120_000 }, async () => {
  const t = await start();
  assert.equal(t.tickPeriodMs, 1000);
  t.tick();
  t.tick();
  assert.equal(t.sharedData("ticks"), "2");
  assert.ok(t.enqueue("coverage-queue", "queued item"));
  assert.equal(t.sharedData("last-item"), "queued item");
});

test("TCP data is rewritten, and a connection can be closed", { timeout: 120_000 }, async () => {
  const t = await start();
  const tcp = t.tcp();
  tcp.newConnection();
  tcp.downstreamData("ping", false);
  assert.equal(new TextDecoder().decode(tcp.forwardedUpstream), "PING");
  const closing = t.tcp();
  closing.newConnection();
  closing.upstreamData("please close-me", false);
  assert.equal(closing.events.closes.length, 1, "the plugin closed the connection");
});
