import assert from "node:assert/strict";
import { before, test } from "node:test";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./support/fixture-build.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("callouts");
});

const decoder = new TextDecoder();

function request(extra: Array<[string, string]> = []): Array<[string, string]> {
  return [[":method", "GET"], [":path", "/"], [":authority", "example.com"], ...extra];
}

test("HTTP callout from the request headers, answered later: the paused request resumes", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm);
  const first = plugin.http();
  const second = plugin.http();
  first.requestHeaders(request([["authorization", "alice"]]), true);
  second.requestHeaders(request([["authorization", "bob"]]), true);
  assert.equal(plugin.httpCalls.length, 2);
  const [callA, callB] = plugin.httpCalls;
  assert.equal(callA.cluster, "auth");
  assert.equal(callA.header(":path"), "/check");
  assert.equal(callA.header("x-token"), "alice");
  assert.equal(callA.timeoutMs, 250);
  assert.equal(first.events.requestResumed, 0, "the request waits for the answer");
  // Answer in the opposite order: each response must reach the stream that made the call.
  callB.respond({
    headers: [
      [":status", "200"],
      ["x-user", "bob-id"],
    ],
  });
  callA.respond({
    headers: [
      [":status", "200"],
      ["x-user", "alice-id"],
    ],
  });
  assert.equal(first.requestHeader("x-auth-user"), "alice-id");
  assert.equal(second.requestHeader("x-auth-user"), "bob-id");
  assert.equal(first.events.requestResumed, 1);
  assert.equal(second.events.requestResumed, 1);
  first.complete();
  second.complete();
});

test("HTTP callout: a non-200 answer becomes a local reply carrying the response body", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm);
  const http = plugin.http();
  http.requestHeaders(request([["authorization", "mallory"]]), true);
  plugin.httpCalls[0].respond({ headers: [[":status", "401"]], body: "bad token" });
  assert.equal(http.localReply?.statusCode, 403);
  assert.equal(http.localReplyBodyText, "denied: bad token");
  http.complete();
});

test("HTTP callout: a timeout reaches the plugin as Envoy's 504 response, not as a failure", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm);
  const http = plugin.http();
  http.requestHeaders(request([["authorization", "slow"]]), true);
  plugin.advance(300);
  // The fixture answers any non-200 with 403 "denied: <body>"; a failure would have been 503.
  assert.equal(http.localReply?.statusCode, 403);
  assert.equal(http.localReplyBodyText, "denied: upstream request timeout");
  http.complete();
});

test("HTTP callout to an unknown cluster: the failed status is surfaced, not trapped", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { clusters: ["other"] });
  const http = plugin.http();
  http.requestHeaders(request([["authorization", "x"]]), true);
  assert.equal(http.localReply?.statusCode, 500);
  assert.match(http.localReplyBodyText ?? "", /^callout failed with status \d+$/);
  http.complete();
});

test("a stream deleted while its callout is pending: the late answer is dropped safely", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm);
  const http = plugin.http();
  http.requestHeaders(request([["authorization", "gone"]]), true);
  http.complete();
  plugin.httpCalls[0].respond({ headers: [[":status", "200"]] });
  const next = plugin.http();
  next.requestHeaders(request([["authorization", "next"]]), true);
  plugin.httpCalls[1].respond({
    headers: [
      [":status", "200"],
      ["x-user", "n"],
    ],
  });
  assert.equal(next.requestHeader("x-auth-user"), "n");
  next.complete();
});

test("gRPC unary call: the message alone resumes the request, with no metadata or close callback (as Envoy)", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm);
  const http = plugin.http();
  http.requestHeaders(request([["x-mode", "grpc"]]), true);
  const call = plugin.grpcCalls[0];
  assert.equal(call.service, "test.Echo");
  assert.equal(call.method, "Say");
  assert.equal(decoder.decode(call.sent[0]), "ping");
  call.respond("pong", [["x-md", "v1"]]);
  assert.equal(http.requestHeader("x-grpc-reply"), "pong");
  assert.equal(http.events.requestResumed, 1);
  assert.ok(plugin.logs().includes("message: pong"));
  assert.ok(!plugin.logs().some((line) => line.startsWith("initial metadata") || line.startsWith("closed")));
  http.complete();
});

test("gRPC unary call: an error status and its message reach the plugin", { timeout: 60_000 }, async () => {
  const plugin = await startPlugin(wasm);
  const http = plugin.http();
  http.requestHeaders(request([["x-mode", "grpc"]]), true);
  plugin.grpcCalls[0].close(14, "backend down");
  assert.equal(http.localReply?.statusCode, 502);
  assert.ok(plugin.logs().includes("closed 14: backend down"));
  http.complete();
});

test("gRPC stream: send, initial metadata, messages, trailing metadata, close", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm);
  const http = plugin.http();
  http.requestHeaders(request([["x-mode", "grpc-stream"]]), true);
  const stream = plugin.grpcCalls[0];
  assert.equal(stream.streaming, true);
  assert.deepEqual(
    stream.sent.map((m) => decoder.decode(m)),
    ["hello"],
  );
  stream.receiveInitialMetadata([["x-md", "first"]]);
  stream.receive("one,");
  stream.receive("two");
  stream.receiveTrailingMetadata([["x-trailer", "done"]]);
  stream.close(0);
  const logs = plugin.logs();
  assert.ok(logs.includes("initial metadata 1: first"));
  assert.ok(logs.includes("message: one,"));
  assert.ok(
    logs.includes("trailing metadata 1: done"),
    "trailing metadata is delivered (the spec's export name)",
  );
  assert.equal(http.requestHeader("x-grpc-reply"), "one,two");
  http.complete();
});
