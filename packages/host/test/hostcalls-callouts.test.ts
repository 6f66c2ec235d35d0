/** Success and error paths of the HTTP-call, gRPC, stream-control and local-reply hostcalls. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serializePairs } from "../src/pairs.ts";
import { Status, StreamType } from "../src/types.ts";
import { type AbiHarness, startAbiHarness } from "./support/abi-module.ts";

const opts = { timeout: 30_000 };
const GOOD_HEADERS = serializePairs([
  [":method", "POST"],
  [":path", "/v1"],
  [":authority", "svc"],
]);

function httpCall(t: AbiHarness, cluster: string, headers: Uint8Array, tokenPtr = t.out()): number {
  const [c, cl] = t.put(cluster);
  const [h, hl] = t.put(headers);
  const [b, bl] = t.put("payload");
  const [tr, trl] = t.put(serializePairs([["t", "1"]]));
  return t.call("proxy_http_call", c, cl, h, hl, b, bl, tr, trl, 1000, tokenPtr);
}

test(
  "proxy_http_call: OK with a token; BAD_ARGUMENT for unknown cluster or missing pseudo-headers; memory errors",
  opts,
  async () => {
    const t = await startAbiHarness({ clusters: ["svc_cluster"] });
    const root = t.harness.plugin.root;
    t.inContext(root, () => {
      const token = t.out();
      assert.equal(httpCall(t, "svc_cluster", GOOD_HEADERS, token), Status.Ok);
      assert.equal(t.u32(token), 1);
      assert.equal(httpCall(t, "nope", GOOD_HEADERS), Status.BadArgument);
      assert.equal(httpCall(t, "svc_cluster", serializePairs([[":method", "GET"]])), Status.BadArgument);
      assert.equal(
        httpCall(t, "svc_cluster", new Uint8Array([9, 0, 0, 0])),
        Status.BadArgument,
        "malformed headers",
      );
      assert.equal(httpCall(t, "svc_cluster", GOOD_HEADERS, t.badPointer), Status.InvalidMemoryAccess);
      const [h, hl] = t.put(GOOD_HEADERS);
      assert.equal(
        t.call("proxy_http_call", t.badPointer, 3, h, hl, 0, 0, 0, 0, 1000, t.out()),
        Status.InvalidMemoryAccess,
      );
    });
    const [call] = t.harness.httpCalls;
    assert.ok(call);
    assert.equal(call.cluster, "svc_cluster");
    assert.equal(new TextDecoder().decode(call.body), "payload");
    assert.equal(call.timeoutMs, 1000);
    assert.equal(t.harness.httpCalls.length, 1, "failed calls are not dispatched");
  },
);

test("proxy_get_status after a failed callout; INVALID_MEMORY_ACCESS", opts, async () => {
  const t = await startAbiHarness();
  const root = t.harness.plugin.root;
  t.inContext(root, () => httpCall(t, "c", GOOD_HEADERS));
  t.harness.httpCalls[0]!.fail("reset");
  t.inContext(root, () => {
    const code = t.out();
    const pp = t.out();
    const sp = t.out();
    assert.equal(t.call("proxy_get_status", code, pp, sp), Status.Ok);
    assert.equal(t.u32(code), Status.BrokenConnection);
    assert.equal(t.text(pp, sp), "reset");
    assert.equal(t.call("proxy_get_status", t.badPointer, pp, sp), Status.InvalidMemoryAccess);
    assert.equal(t.call("proxy_get_status", code, t.badPointer, sp), Status.InvalidMemoryAccess);
  });
});

const GRPC_CALLBACKS = `
  (global $last_cb (export "last_cb") (mut i32) (i32.const 0))
  (global $last_arg (export "last_arg") (mut i32) (i32.const 0))
  (global $msg_status (export "msg_status") (mut i32) (i32.const -1))
  (func (export "proxy_on_grpc_receive_initial_metadata") (param i32 i32 i32) (global.set $last_cb (i32.const 1)) (global.set $last_arg (local.get 2)))
  (func (export "proxy_on_grpc_receive") (param i32 i32 i32)
    (global.set $last_cb (i32.const 2)) (global.set $last_arg (local.get 2))
    (global.set $msg_status (call $f6 (i32.const 5) (i32.const 0) (local.get 2) (i32.const 7000) (i32.const 7004))))
  (func (export "proxy_on_grpc_receive_trailing_metadata") (param i32 i32 i32) (global.set $last_cb (i32.const 3)) (global.set $last_arg (local.get 2)))
  (func (export "proxy_on_grpc_close") (param i32 i32 i32) (global.set $last_cb (i32.const 4)) (global.set $last_arg (local.get 2)))
`;

function grpcStart(t: AbiHarness, stream: boolean, cluster = "grpc_cluster", tokenPtr = t.out()): number {
  const [c, cl] = t.put(cluster);
  const [s, sl] = t.put("pkg.Service");
  const [m, ml] = t.put("Method");
  const [md, mdl] = t.put(serializePairs([["x-md", "1"]]));
  if (stream) return t.call("proxy_grpc_stream", c, cl, s, sl, m, ml, md, mdl, tokenPtr);
  const [msg, msgl] = t.put(new Uint8Array([8, 1]));
  return t.call("proxy_grpc_call", c, cl, s, sl, m, ml, md, mdl, msg, msgl, 500, tokenPtr);
}

test(
  "gRPC: call/stream tokens, send, cancel, close, callbacks; PARSE_FAILURE, NOT_FOUND, BAD_ARGUMENT",
  opts,
  async () => {
    // $f6 is proxy_get_buffer_bytes in the generated import order.
    const t = await startAbiHarness({ clusters: ["grpc_cluster"], callbacks: GRPC_CALLBACKS });
    const g = (name: string) => (t.vm.instance.exports[name] as { value: number }).value;
    const root = t.harness.plugin.root;
    const callToken = t.out();
    const streamToken = t.out();
    t.inContext(root, () => {
      assert.equal(grpcStart(t, false, "grpc_cluster", callToken), Status.Ok);
      assert.equal(grpcStart(t, true, "grpc_cluster", streamToken), Status.Ok);
      assert.equal(t.u32(callToken) % 2, 1, "calls get odd tokens");
      assert.equal(t.u32(streamToken) % 2, 0, "streams get even tokens");
      assert.equal(grpcStart(t, false, "unknown"), Status.ParseFailure);
      assert.equal(grpcStart(t, true, "unknown"), Status.ParseFailure);
      assert.equal(grpcStart(t, false, "grpc_cluster", t.badPointer), Status.InvalidMemoryAccess);
      const [m, ml] = t.put("more");
      assert.equal(t.call("proxy_grpc_send", t.u32(streamToken), m, ml, 0), Status.Ok);
      assert.equal(
        t.call("proxy_grpc_send", t.u32(callToken), m, ml, 0),
        Status.BadArgument,
        "send on a unary call",
      );
      assert.equal(t.call("proxy_grpc_send", 999, m, ml, 0), Status.NotFound);
      assert.equal(
        t.call("proxy_grpc_send", t.u32(streamToken), t.badPointer, 2, 0),
        Status.InvalidMemoryAccess,
      );
    });
    const [call, stream] = t.harness.grpcCalls;
    assert.ok(call && stream);
    assert.equal(call.service, "pkg.Service");
    assert.equal(call.method, "Method");
    assert.deepEqual([...call.sent[0]!], [8, 1]);
    assert.equal(new TextDecoder().decode(stream.sent[0]), "more");
    call.receiveInitialMetadata([
      ["a", "1"],
      ["b", "2"],
    ]);
    assert.deepEqual([g("last_cb"), g("last_arg")], [1, 2]);
    call.receive(new Uint8Array([1, 2, 3]));
    assert.deepEqual([g("last_cb"), g("last_arg"), g("msg_status")], [2, 3, Status.Ok]);
    assert.deepEqual(
      [...t.bytes(t.u32(7000), t.u32(7004))],
      [1, 2, 3],
      "message readable as GRPC_CALL_MESSAGE",
    );
    call.receiveTrailingMetadata([["grpc-status", "0"]]);
    assert.deepEqual([g("last_cb"), g("last_arg")], [3, 1]);
    assert.equal(call.close(0), true);
    assert.deepEqual([g("last_cb"), g("last_arg")], [4, 0]);
    t.inContext(root, () => {
      assert.equal(t.call("proxy_grpc_cancel", t.u32(callToken)), Status.NotFound, "already closed");
      assert.equal(t.call("proxy_grpc_close", t.u32(streamToken)), Status.Ok, "half-close a stream");
      const [m, ml] = t.put("x");
      assert.equal(
        t.call("proxy_grpc_send", t.u32(streamToken), m, ml, 0),
        Status.BadArgument,
        "closed for sending",
      );
      assert.equal(t.call("proxy_grpc_cancel", t.u32(streamToken)), Status.Ok);
      assert.equal(t.call("proxy_grpc_cancel", t.u32(streamToken)), Status.NotFound);
      assert.equal(t.call("proxy_grpc_close", 12345), Status.NotFound);
    });
    assert.equal(stream.cancelled, true);
    assert.equal(stream.receive("late"), false, "no callbacks after cancel");
  },
);

test(
  "proxy_continue_stream / proxy_close_stream: OK, BAD_ARGUMENT, UNIMPLEMENTED; events after the call",
  opts,
  async () => {
    const t = await startAbiHarness();
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    http.stream.request.stop = 1;
    t.inContext(http.stream, () => {
      assert.equal(t.call("proxy_continue_stream", StreamType.HttpRequest), Status.Ok);
      assert.equal(t.call("proxy_continue_stream", 4), Status.BadArgument);
      assert.equal(t.call("proxy_close_stream", StreamType.HttpResponse), Status.Ok);
      assert.equal(t.call("proxy_close_stream", 7), Status.BadArgument);
    });
    assert.equal(http.events.requestResumed, 1);
    assert.deepEqual(http.events.resets, ["response"]);
    t.inContext(t.harness.plugin.root, () => {
      assert.equal(t.call("proxy_continue_stream", StreamType.HttpRequest), Status.Ok, "root context");
    });
    const tcp = t.harness.tcp();
    tcp.newConnection();
    t.inContext(tcp.stream, () => {
      assert.equal(t.call("proxy_close_stream", StreamType.Upstream), Status.Ok);
    });
    assert.deepEqual(tcp.events.closes, ["upstream"]);
  },
);

test(
  "proxy_continue_stream answers as Envoy's Context::continueStream, whatever the context",
  opts,
  async () => {
    const t = await startAbiHarness();
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    const tcp = t.harness.tcp();
    tcp.newConnection();
    // Envoy: REQUEST, RESPONSE and DOWNSTREAM are OK on any context (a no-op where there is nothing to
    // resume), UPSTREAM is UNIMPLEMENTED on any context, HTTP or network.
    const expected = [Status.Ok, Status.Ok, Status.Ok, Status.Unimplemented];
    for (const [name, context] of [
      ["HTTP stream", http.stream],
      ["TCP stream", tcp.stream],
      ["root context", t.harness.plugin.root],
    ] as const) {
      t.inContext(context, () => {
        const answers = [0, 1, 2, 3].map((type) => t.call("proxy_continue_stream", type));
        assert.deepEqual(answers, expected, name);
      });
    }
    // The HTTP stream's held request resumed once, by its own REQUEST; the TCP stream's and the root
    // context's REQUEST resumed nothing, and the TCP stream held no downstream data.
    assert.equal(http.events.requestResumed, 1);
    assert.equal(tcp.events.downstreamResumed, 0);

    // Held data: DOWNSTREAM resumes the client's bytes; UPSTREAM leaves the backend's bytes held.
    const conn = tcp.stream;
    conn.downstream.paused = true;
    conn.downstream.data.appendOwned(new TextEncoder().encode("to backend"));
    conn.upstream.paused = true;
    conn.upstream.data.appendOwned(new TextEncoder().encode("to client"));
    t.inContext(conn, () => {
      assert.equal(t.call("proxy_continue_stream", StreamType.Downstream), Status.Ok);
      assert.equal(t.call("proxy_continue_stream", StreamType.Upstream), Status.Unimplemented);
    });
    assert.equal(tcp.events.downstreamResumed, 1);
    assert.equal(new TextDecoder().decode(conn.drainDownstream()), "to backend");
    assert.equal(conn.upstream.paused, true);
    assert.equal(conn.drainUpstream().length, 0, "held upstream bytes wait for the next upstream chunk");
  },
);

test(
  "proxy_send_local_response: OK with gRPC status; INVALID_MEMORY_ACCESS; BAD_ARGUMENT outside HTTP",
  opts,
  async () => {
    const t = await startAbiHarness();
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    const [d, dl] = t.put("rate_limited");
    const [b, bl] = t.put("slow down");
    const [h, hl] = t.put(serializePairs([["retry-after", "1"]]));
    t.inContext(http.stream, () => {
      assert.equal(t.call("proxy_send_local_response", 429, d, dl, b, bl, h, hl, 8), Status.Ok);
      assert.equal(
        t.call("proxy_send_local_response", 429, d, dl, t.badPointer, 4, h, hl, 8),
        Status.InvalidMemoryAccess,
      );
      assert.equal(
        t.call("proxy_send_local_response", 429, d, dl, b, bl, t.badPointer, 8, -1),
        Status.InvalidMemoryAccess,
      );
    });
    assert.equal(http.localReply?.statusCode, 429);
    assert.equal(http.localReply?.grpcStatus, 8);
    assert.equal(http.localReplyBodyText, "slow down");
    t.inContext(t.harness.plugin.root, () => {
      assert.equal(t.call("proxy_send_local_response", 500, d, dl, b, bl, h, hl, -1), Status.BadArgument);
    });
  },
);
