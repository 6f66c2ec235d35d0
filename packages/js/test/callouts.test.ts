// Awaiting callouts in a TypeScript plugin: the stream pauses and resumes with the answer; a timeout or a
// reset rejects the promise; exceptions and unhandled rejections are logged with their .ts stack and
// fail only their stream (or trap, for a synchronous throw).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Action } from "@proxy-wasm-ts/host";
import { type PluginHarness, startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./build-fixture.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("callouts");
});

function start(): Promise<PluginHarness> {
  return startPlugin(wasm, { name: "callouts", clusters: ["backend", "grpc_backend"] });
}

function request(t: PluginHarness, path: string) {
  const http = t.http();
  const action = http.requestHeaders(
    [
      [":method", "GET"],
      [":path", path],
      [":authority", "test"],
    ],
    true,
  );
  return { http, action };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("awaited callouts", { timeout: 120_000 }, () => {
  test("await pauses the stream and resumes it with the answer", async () => {
    const t = await start();
    const { http, action } = request(t, "/await");
    assert.equal(action, Action.Pause);
    assert.equal(t.httpCalls.length, 1);
    assert.equal(t.httpCalls[0]!.header(":path"), "/lookup");
    assert.equal(http.events.requestResumed, 0);
    t.httpCalls[0]!.respond({ headers: [[":status", "200"]], body: "eu-west" });
    assert.equal(http.requestHeader("x-answer"), "200 eu-west");
    assert.equal(http.events.requestResumed, 1);
  });

  test("a handler that resolves within its callback does not pause the stream", async () => {
    const t = await start();
    const { http, action } = request(t, "/no-await");
    assert.equal(action, Action.Continue);
    assert.equal(http.requestHeader("x-inline"), "yes");
    assert.equal(http.events.requestResumed, 0);
  });

  test("a resolved promise may answer with a local reply", async () => {
    const t = await start();
    const { http } = request(t, "/await-reply");
    t.httpCalls[0]!.respond({ headers: [[":status", "200"]], body: "hello" });
    assert.equal(http.events.localReplies[0]?.statusCode, 200);
    assert.equal(text(http.events.localReplies[0]!.body), "upstream said hello");
  });

  test("a timed-out callout rejects the awaited promise (the stream is not left hanging)", async () => {
    const t = await start();
    const { http } = request(t, "/await-reply");
    t.advance(1000);
    assert.equal(http.events.localReplies[0]?.statusCode, 502);
    assert.equal(text(http.events.localReplies[0]!.body), "callout failed: timeout");
  });

  test("a reset callout rejects the awaited promise", async () => {
    const t = await start();
    const { http } = request(t, "/await-reply");
    t.httpCalls[0]!.fail();
    assert.equal(text(http.events.localReplies[0]!.body), "callout failed: reset");
  });

  test("a callout that cannot be dispatched rejects at once", async () => {
    const t = await start();
    t.failDispatch("backend", "http");
    const { http, action } = request(t, "/await-reply");
    assert.equal(action, Action.Pause);
    assert.equal(text(http.events.localReplies[0]!.body), "callout failed: dispatch");
  });

  test("an awaited gRPC call resolves with the message, or rejects with its status", async () => {
    const t = await start();
    const ok = request(t, "/grpc");
    assert.equal(ok.action, Action.Pause);
    t.grpcCalls[0]!.respond("pong");
    assert.equal(ok.http.requestHeader("x-grpc"), "pong");
    assert.equal(ok.http.events.requestResumed, 1);
    const failed = request(t, "/grpc");
    t.grpcCalls[1]!.close(7, "denied");
    assert.equal(text(failed.http.events.localReplies[0]!.body), "grpc failed: status 7");
  });
});

test("a gRPC stream sends messages and delivers metadata, messages and its close", {
  timeout: 120_000,
}, async () => {
  const t = await start();
  const { http, action } = request(t, "/grpc-stream");
  assert.equal(action, Action.Pause);
  const call = t.grpcCalls[0]!;
  assert.equal(call.streaming, true);
  assert.deepEqual(call.sent.map(text), ["hello", "bye"]);
  assert.equal(call.localClosed, true);
  call.receiveInitialMetadata([["x-hello", "there"]]);
  call.receive("one");
  call.receive("two");
  call.close(0);
  assert.equal(http.requestHeader("x-stream"), "meta:there,one,two;status=0");
  assert.equal(http.events.requestResumed, 1);
});

describe("failures", { timeout: 120_000 }, () => {
  test("an exception after an await is logged at critical with the .ts stack and fails that stream", async () => {
    const t = await start();
    const { http } = request(t, "/throw-after-await");
    const other = request(t, "/await");
    t.httpCalls[0]!.respond({ headers: [[":status", "200"]] });
    assert.equal(http.events.localReplies[0]?.statusCode, 500);
    const critical = t.logs("critical").join("\n");
    assert.match(critical, /thrown from the plugin/);
    assert.match(critical, /src\/index\.ts:6:\d+/, critical);
    // The other stream is unaffected.
    t.httpCalls[1]!.respond({ headers: [[":status", "200"]], body: "fine" });
    assert.equal(other.http.requestHeader("x-answer"), "200 fine");
  });

  test("an unhandled promise rejection is logged and fails that stream only", async () => {
    const t = await start();
    const { http } = request(t, "/unhandled");
    assert.equal(http.events.localReplies[0]?.statusCode, 500);
    assert.match(t.logs("critical").join("\n"), /unhandled promise rejection.*\n?.*nobody handles this/);
    const next = request(t, "/no-await");
    assert.equal(next.action, Action.Continue);
    assert.equal(next.http.events.localReplies.length, 0);
  });

  test("a synchronous exception is logged with the .ts stack and traps (the host's failure policy applies)", async () => {
    const t = await start();
    const { http } = request(t, "/no-await");
    http.responseHeaders(
      [
        [":status", "200"],
        ["x-throw", "sync"],
      ],
      true,
    );
    // The VM failed, so the stream gets the failure policy's answer (fail closed: 503 wasm_fail_stream).
    assert.equal(http.events.localReplies[0]?.details, "wasm_fail_stream");
    assert.ok(t.logs().some((line) => /VM failed in proxy_on_response_headers/.test(line)));
    const critical = t.logs("critical").join("\n");
    assert.match(critical, /thrown from the plugin/);
    assert.match(critical, /src\/index\.ts:6:\d+/, critical);
  });
});
