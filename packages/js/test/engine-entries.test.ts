// The glue answers callbacks a plugin has no handler for without entering the engine (Continue, or
// "done"), unless a stream waits for a handler's promise: data that arrives then must still pause.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Action } from "@proxy-wasm-ts/host";
import { type PluginHarness, startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./build-fixture.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("engine-entries");
});

function start(): Promise<PluginHarness> {
  return startPlugin(wasm, { name: "engine-entries", clusters: ["backend"] });
}

/** The engine-entry count the plugin logged with `prefix` (its last such line). */
function loggedEntries(t: PluginHarness, prefix: string): number {
  const line = t.logs().findLast((message) => message.startsWith(prefix));
  assert.ok(line, `no log line starting with "${prefix}" in ${JSON.stringify(t.logs())}`);
  return Number(line.slice(line.lastIndexOf(":") + 1));
}

describe("callbacks without a handler", { timeout: 120_000 }, () => {
  test("answer Continue without entering the engine", async () => {
    const t = await start();
    const tcp = t.tcp({ "source.address": "10.0.0.1:40000" });
    assert.equal(tcp.newConnection(), Action.Continue);
    assert.equal(tcp.downstreamData("ping"), Action.Continue);
    assert.equal(tcp.upstreamData("pong"), Action.Continue);
    tcp.closeDownstream();
    tcp.closeUpstream();
    const atNewConnection = loggedEntries(t, "new connection");
    const atUpstreamClose = loggedEntries(t, `upstream close ${tcp.id}`);
    // Only the upstream close entered since the new connection (not both data callbacks and the
    // downstream close).
    assert.equal(atUpstreamClose - atNewConnection, 1);
    assert.equal(new TextDecoder().decode(tcp.forwardedUpstream), "ping");
    // Done and Log have no handler either; the connection is still deleted (its record with it).
    tcp.complete();
    assert.equal(t.logs("critical").length, 0);
  });

  test("data pauses while its connection waits for a promise, and flows again once it settles", async () => {
    const t = await start();
    const waiting = t.tcp({ "source.address": "10.0.0.1:40000", "test.await": "yes" });
    assert.equal(waiting.newConnection(), Action.Pause);
    assert.equal(waiting.downstreamData("early"), Action.Pause);
    // Another connection's data flows meanwhile (the engine is entered for it, and answers Continue).
    const other = t.tcp({ "source.address": "10.0.0.2:40000" });
    assert.equal(other.newConnection(), Action.Continue);
    assert.equal(other.downstreamData("other"), Action.Continue);

    t.httpCalls[0]!.respond({ headers: [[":status", "200"]], body: "ok" });
    assert.ok(t.logs().includes("answer: ok"));
    assert.equal(waiting.events.downstreamResumed, 1);
    const atOtherStart = loggedEntries(t, "new connection");
    assert.equal(waiting.downstreamData("late"), Action.Continue);
    assert.equal(other.upstreamData("reply"), Action.Continue);
    waiting.closeUpstream();
    // Entered since the other connection started: its data (a connection waited then), the callout's
    // answer and this close; the two data callbacks after the answer were the glue's (nothing waits).
    assert.equal(loggedEntries(t, `upstream close ${waiting.id}`) - atOtherStart, 3);
  });

  test("trailers without a handler pause while the body handler waits", async () => {
    const t = await start();
    const http = t.http();
    const headers: Array<[string, string]> = [
      [":method", "POST"],
      [":path", "/"],
      [":authority", "test"],
    ];
    assert.equal(http.requestHeaders(headers, false), Action.Continue);
    assert.equal(http.requestBody("chunk", false), Action.Pause);
    assert.equal(http.requestTrailers([["x-sum", "1"]]), Action.Pause);
    t.httpCalls[0]!.respond({ headers: [[":status", "200"]], body: "ok" });
    assert.ok(t.logs().includes("body answer: ok"));
    assert.equal(http.events.requestResumed, 1);
  });

  test("a filter-state message with a two-byte length and a life span reaches the host", async () => {
    const t = await start();
    const tcp = t.tcp({ "source.address": "10.0.0.1:40000" });
    tcp.newConnection();
    assert.equal(tcp.filterState("envoy.string"), "v".repeat(200));
  });
});
