/** Success and error paths of the HTTP-call, gRPC, stream-control and local-reply hostcalls. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IMPORT_TABLE } from "../src/abi/table.ts";
import { serializePairs } from "../src/pairs.ts";
import { Status, StreamType } from "../src/types.ts";
import { type AbiHarness, startAbiHarness } from "./support/abi-module.ts";
import { shared } from "./support/shared-setup.ts";

const opts = { timeout: 30_000 };
const GOOD_HEADERS = serializePairs([
  [":method", "POST"],
  [":path", "/v1"],
  [":authority", "svc"],
]);

function httpCall(
  t: AbiHarness,
  cluster: string,
  headers: Uint8Array,
  tokenPtr = t.out(),
  timeoutMs = 1000,
): number {
  const [c, cl] = t.put(cluster);
  const [h, hl] = t.put(headers);
  const [b, bl] = t.put("payload");
  const [tr, trl] = t.put(serializePairs([["t", "1"]]));
  return t.call("proxy_http_call", c, cl, h, hl, b, bl, tr, trl, timeoutMs, tokenPtr);
}

describe("proxy_http_call", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness({ clusters: ["svc_cluster"] });
    const root = t.harness.plugin.root;
    return { t, run: <T>(fn: () => T) => t.inContext(root, fn) };
  });

  test("OK with a token", () =>
    s.run(() => {
      const token = s.t.out();
      assert.equal(httpCall(s.t, "svc_cluster", GOOD_HEADERS, token), Status.Ok);
      assert.equal(s.t.u32(token), 1);
    }));

  test("BAD_ARGUMENT for an unknown cluster", () =>
    s.run(() => assert.equal(httpCall(s.t, "nope", GOOD_HEADERS), Status.BadArgument)));

  test("BAD_ARGUMENT for missing pseudo-headers", () =>
    s.run(() =>
      assert.equal(httpCall(s.t, "svc_cluster", serializePairs([[":method", "GET"]])), Status.BadArgument),
    ));

  test("BAD_ARGUMENT for malformed headers", () =>
    s.run(() =>
      assert.equal(httpCall(s.t, "svc_cluster", new Uint8Array([9, 0, 0, 0])), Status.BadArgument),
    ));

  test("INVALID_MEMORY_ACCESS for a token pointer out of bounds", () =>
    s.run(() =>
      assert.equal(httpCall(s.t, "svc_cluster", GOOD_HEADERS, s.t.badPointer), Status.InvalidMemoryAccess),
    ));

  test("BAD_ARGUMENT for a negative timeout (a signed int in Envoy)", () =>
    s.run(() => {
      assert.equal(httpCall(s.t, "svc_cluster", GOOD_HEADERS, s.t.out(), -1), Status.BadArgument);
      assert.equal(httpCall(s.t, "svc_cluster", GOOD_HEADERS, s.t.out(), -2147483648), Status.BadArgument);
    }));

  test("INVALID_MEMORY_ACCESS for a cluster name out of bounds", () =>
    s.run(() => {
      const [h, hl] = s.t.put(GOOD_HEADERS);
      assert.equal(
        s.t.call("proxy_http_call", s.t.badPointer, 3, h, hl, 0, 0, 0, 0, 1000, s.t.out()),
        Status.InvalidMemoryAccess,
      );
    }));

  test("the call the upstream got: cluster, body, timeout", () => {
    const [call] = s.t.harness.httpCalls;
    assert.ok(call);
    assert.equal(call.cluster, "svc_cluster");
    assert.equal(new TextDecoder().decode(call.body), "payload");
    assert.equal(call.timeoutMs, 1000);
  });

  test("failed calls are not dispatched", () => assert.equal(s.t.harness.httpCalls.length, 1));
});

describe("proxy_get_status", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness();
    const root = t.harness.plugin.root;
    t.inContext(root, () => httpCall(t, "c", GOOD_HEADERS));
    t.harness.httpCalls[0]!.fail("reset");
    return { t, run: <T>(fn: () => T) => t.inContext(root, fn) };
  });

  test("the code and message of a failed callout", () =>
    s.run(() => {
      const code = s.t.out();
      const pp = s.t.out();
      const sp = s.t.out();
      assert.equal(s.t.call("proxy_get_status", code, pp, sp), Status.Ok);
      assert.equal(s.t.u32(code), Status.BrokenConnection);
      assert.equal(s.t.text(pp, sp), "reset");
    }));

  test("INVALID_MEMORY_ACCESS for a code pointer out of bounds", () =>
    s.run(() =>
      assert.equal(
        s.t.call("proxy_get_status", s.t.badPointer, s.t.out(), s.t.out()),
        Status.InvalidMemoryAccess,
      ),
    ));

  test("INVALID_MEMORY_ACCESS for a message pointer out of bounds", () =>
    s.run(() =>
      assert.equal(
        s.t.call("proxy_get_status", s.t.out(), s.t.badPointer, s.t.out()),
        Status.InvalidMemoryAccess,
      ),
    ));
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

describe("gRPC hostcalls", opts, () => {
  const s = shared(async () => {
    // $f6 is proxy_get_buffer_bytes in the generated import order.
    const t = await startAbiHarness({ clusters: ["grpc_cluster"], callbacks: GRPC_CALLBACKS });
    const root = t.harness.plugin.root;
    return {
      t,
      g: (name: string) => (t.vm.instance.exports[name] as { value: number }).value,
      run: <T>(fn: () => T) => t.inContext(root, fn),
      callToken: t.out(),
      streamToken: t.out(),
    };
  });
  const send = (token: number, data: string) => {
    const [m, ml] = s.t.put(data);
    return s.t.call("proxy_grpc_send", token, m, ml, 0);
  };
  const calls = () => {
    const [call, stream] = s.t.harness.grpcCalls;
    assert.ok(call && stream);
    return { call, stream };
  };

  test("proxy_grpc_call and proxy_grpc_stream: OK; calls get odd tokens, streams even ones", () =>
    s.run(() => {
      assert.equal(grpcStart(s.t, false, "grpc_cluster", s.callToken), Status.Ok);
      assert.equal(grpcStart(s.t, true, "grpc_cluster", s.streamToken), Status.Ok);
      assert.equal(s.t.u32(s.callToken) % 2, 1);
      assert.equal(s.t.u32(s.streamToken) % 2, 0);
    }));

  test("PARSE_FAILURE for an unknown cluster", () =>
    s.run(() => {
      assert.equal(grpcStart(s.t, false, "unknown"), Status.ParseFailure);
      assert.equal(grpcStart(s.t, true, "unknown"), Status.ParseFailure);
    }));

  test("INVALID_MEMORY_ACCESS for a token pointer out of bounds", () =>
    s.run(() =>
      assert.equal(grpcStart(s.t, false, "grpc_cluster", s.t.badPointer), Status.InvalidMemoryAccess),
    ));

  describe("proxy_grpc_send", () => {
    test("OK on a stream", () => s.run(() => assert.equal(send(s.t.u32(s.streamToken), "more"), Status.Ok)));

    test("BAD_ARGUMENT on a unary call", () =>
      s.run(() => assert.equal(send(s.t.u32(s.callToken), "more"), Status.BadArgument)));

    test("NOT_FOUND for an unknown stream token", () =>
      s.run(() => assert.equal(send(998, "more"), Status.NotFound)));

    test("BAD_ARGUMENT for a call token (odd), known or not, as Envoy's grpcSend checks it first", () =>
      s.run(() => assert.equal(send(999, "more"), Status.BadArgument)));

    test("INVALID_MEMORY_ACCESS for a message out of bounds", () =>
      s.run(() =>
        assert.equal(
          s.t.call("proxy_grpc_send", s.t.u32(s.streamToken), s.t.badPointer, 2, 0),
          Status.InvalidMemoryAccess,
        ),
      ));
  });

  test("the upstream got the service, the method and the messages", () => {
    const { call, stream } = calls();
    assert.equal(call.service, "pkg.Service");
    assert.equal(call.method, "Method");
    assert.deepEqual([...call.sent[0]!], [8, 1]);
    assert.equal(new TextDecoder().decode(stream.sent[0]), "more");
  });

  describe("callbacks", () => {
    test("initial metadata: proxy_on_grpc_receive_initial_metadata with the count (a stream)", () => {
      calls().stream.receiveInitialMetadata([
        ["a", "1"],
        ["b", "2"],
      ]);
      assert.deepEqual([s.g("last_cb"), s.g("last_arg")], [1, 2]);
    });

    test("a message: proxy_on_grpc_receive, the message readable as GRPC_CALL_MESSAGE", () => {
      calls().stream.receive(new Uint8Array([1, 2, 3]));
      assert.deepEqual([s.g("last_cb"), s.g("last_arg"), s.g("msg_status")], [2, 3, Status.Ok]);
      assert.deepEqual([...s.t.bytes(s.t.u32(7000), s.t.u32(7004))], [1, 2, 3]);
    });

    test("trailing metadata: proxy_on_grpc_receive_trailing_metadata with the count (a stream)", () => {
      calls().stream.receiveTrailingMetadata([["grpc-status", "0"]]);
      assert.deepEqual([s.g("last_cb"), s.g("last_arg")], [3, 1]);
    });

    test("a unary call closed OK: its message arrives then, as proxy_on_grpc_receive", () => {
      const { call } = calls();
      call.receive(new Uint8Array([4, 5]));
      assert.deepEqual([s.g("last_cb"), s.g("last_arg")], [3, 1], "nothing before the close");
      assert.equal(call.close(0), true);
      assert.deepEqual([s.g("last_cb"), s.g("last_arg")], [2, 2]);
    });
  });

  describe("cancel and close", () => {
    test("proxy_grpc_cancel: NOT_FOUND for a call already closed", () =>
      s.run(() => assert.equal(s.t.call("proxy_grpc_cancel", s.t.u32(s.callToken)), Status.NotFound)));

    test("proxy_grpc_close half-closes a stream: the upstream hears the end; a later send is OK and dropped", () => {
      const { stream } = calls();
      const heard: Array<[string, boolean]> = [];
      stream.onSend = (message, end) => heard.push([new TextDecoder().decode(message), end]);
      s.run(() => {
        assert.equal(s.t.call("proxy_grpc_close", s.t.u32(s.streamToken)), Status.Ok);
        assert.equal(send(s.t.u32(s.streamToken), "x"), Status.Ok);
      });
      assert.deepEqual(heard, [["", true]]);
      assert.equal(stream.sent.length, 1, "nothing sent after the half-close");
    });

    test("proxy_grpc_cancel: OK, then NOT_FOUND", () =>
      s.run(() => {
        assert.equal(s.t.call("proxy_grpc_cancel", s.t.u32(s.streamToken)), Status.Ok);
        assert.equal(s.t.call("proxy_grpc_cancel", s.t.u32(s.streamToken)), Status.NotFound);
      }));

    test("proxy_grpc_close: NOT_FOUND for an unknown token", () =>
      s.run(() => assert.equal(s.t.call("proxy_grpc_close", 12345), Status.NotFound)));

    test("a cancelled stream gets no callbacks", () => {
      const { stream } = calls();
      assert.equal(stream.cancelled, true);
      assert.equal(stream.receive("late"), false);
    });
  });
});

describe("proxy_continue_stream / proxy_close_stream", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness();
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    http.stream.request.stop = 1;
    return { t, http, run: <T>(fn: () => T) => t.inContext(http.stream, fn) };
  });

  test("continue REQUEST: OK; the embedder hears of the resume after the call", () => {
    s.run(() => {
      assert.equal(s.t.call("proxy_continue_stream", StreamType.HttpRequest), Status.Ok);
    });
    assert.equal(s.http.events.requestResumed, 1);
  });

  test("continue: BAD_ARGUMENT for an unknown stream type", () =>
    s.run(() => assert.equal(s.t.call("proxy_continue_stream", 4), Status.BadArgument)));

  test("close RESPONSE: OK; the embedder hears of the reset after the call", () => {
    s.run(() => {
      assert.equal(s.t.call("proxy_close_stream", StreamType.HttpResponse), Status.Ok);
    });
    assert.deepEqual(s.http.events.resets, ["response"]);
  });

  test("close: BAD_ARGUMENT for an unknown stream type", () =>
    s.run(() => assert.equal(s.t.call("proxy_close_stream", 7), Status.BadArgument)));

  test("continue REQUEST on the root context: OK", () =>
    s.t.inContext(s.t.harness.plugin.root, () =>
      assert.equal(s.t.call("proxy_continue_stream", StreamType.HttpRequest), Status.Ok),
    ));

  test("close UPSTREAM on a TCP stream: OK, and the upstream side closes", () => {
    const tcp = s.t.harness.tcp();
    tcp.newConnection();
    s.t.inContext(tcp.stream, () => {
      assert.equal(s.t.call("proxy_close_stream", StreamType.Upstream), Status.Ok);
    });
    assert.deepEqual(tcp.events.closes, ["upstream"]);
  });
});

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

describe("proxy_send_local_response", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness();
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    const [d, dl] = t.put("rate_limited");
    const [b, bl] = t.put("slow down");
    const [h, hl] = t.put(serializePairs([["retry-after", "1"]]));
    return { t, http, d, dl, b, bl, h, hl, run: <T>(fn: () => T) => t.inContext(http.stream, fn) };
  });

  test("OK with a gRPC status: the embedder gets the reply", () => {
    s.run(() => {
      const { d, dl, b, bl, h, hl } = s;
      assert.equal(s.t.call("proxy_send_local_response", 429, d, dl, b, bl, h, hl, 8), Status.Ok);
    });
    assert.equal(s.http.localReply?.statusCode, 429);
    assert.equal(s.http.localReply?.grpcStatus, 8);
    assert.equal(s.http.localReplyBodyText, "slow down");
  });

  test("INVALID_MEMORY_ACCESS for a body out of bounds", () =>
    s.run(() => {
      const { d, dl, h, hl } = s;
      assert.equal(
        s.t.call("proxy_send_local_response", 429, d, dl, s.t.badPointer, 4, h, hl, 8),
        Status.InvalidMemoryAccess,
      );
    }));

  test("INVALID_MEMORY_ACCESS for headers out of bounds", () =>
    s.run(() => {
      const { d, dl, b, bl } = s;
      assert.equal(
        s.t.call("proxy_send_local_response", 429, d, dl, b, bl, s.t.badPointer, 8, -1),
        Status.InvalidMemoryAccess,
      );
    }));

  test("a failed call leaves the reply as it was", () => {
    assert.equal(s.http.localReply?.statusCode, 429);
    assert.equal(s.http.localReply?.grpcStatus, 8);
    assert.equal(s.http.localReplyBodyText, "slow down");
  });

  test("BAD_ARGUMENT outside HTTP (root context)", () =>
    s.t.inContext(s.t.harness.plugin.root, () => {
      const { d, dl, b, bl, h, hl } = s;
      assert.equal(s.t.call("proxy_send_local_response", 500, d, dl, b, bl, h, hl, -1), Status.BadArgument);
    }));
});

describe("gRPC callback order (Envoy's)", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness({ clusters: ["grpc_cluster"], callbacks: GRPC_CALLBACKS, trace: true });
    const root = t.harness.plugin.root;
    return { t, run: <T>(fn: () => T) => t.inContext(root, fn) };
  });
  /** The gRPC callbacks the plugin got while `fn` ran, with their arguments. */
  const callbacks = (fn: () => void): string[] => {
    const lines = s.t.harness.traceLines;
    const from = lines.length;
    fn();
    return lines
      .slice(from)
      .filter((l) => l.startsWith("[host->vm] proxy_on_grpc"))
      .map((l) => l.slice("[host->vm] ".length));
  };
  const start = (stream: boolean) => {
    const token = s.t.out();
    s.run(() => assert.equal(grpcStart(s.t, stream, "grpc_cluster", token), Status.Ok));
    const call = s.t.harness.grpcCalls.at(-1);
    assert.ok(call);
    return { call, token: s.t.u32(token) };
  };
  const root = () => s.t.harness.plugin.root.id;

  test("a unary call that succeeds: proxy_on_grpc_receive only", () => {
    const { call, token } = start(false);
    const seen = callbacks(() => {
      call.receiveInitialMetadata([["x", "1"]]);
      call.receive("pong");
      call.receiveTrailingMetadata([["grpc-status", "0"]]);
      call.close(0);
    });
    assert.deepEqual(seen, [`proxy_on_grpc_receive(${root()}, ${token}, 4)`]);
  });

  test("a unary call that fails: proxy_on_grpc_close only, even after metadata and a message", () => {
    const { call, token } = start(false);
    const seen = callbacks(() => {
      call.receiveInitialMetadata([["x", "1"]]);
      call.receive("partial");
      call.receiveTrailingMetadata([["grpc-status", "14"]]);
      call.close(14, "unavailable");
    });
    assert.deepEqual(seen, [`proxy_on_grpc_close(${root()}, ${token}, 14)`]);
  });

  test("a unary call closed OK without a message: proxy_on_grpc_close with INTERNAL", () => {
    const { call, token } = start(false);
    assert.deepEqual(
      callbacks(() => call.close(0)),
      [`proxy_on_grpc_close(${root()}, ${token}, 13)`],
    );
  });

  test("a stream keeps the full sequence", () => {
    const { call, token } = start(true);
    const seen = callbacks(() => {
      call.receiveInitialMetadata([["x", "1"]]);
      call.receive("m1");
      call.receiveTrailingMetadata([["grpc-status", "0"]]);
      call.close(0);
    });
    const r = root();
    assert.deepEqual(seen, [
      `proxy_on_grpc_receive_initial_metadata(${r}, ${token}, 1)`,
      `proxy_on_grpc_receive(${r}, ${token}, 2)`,
      `proxy_on_grpc_receive_trailing_metadata(${r}, ${token}, 1)`,
      `proxy_on_grpc_close(${r}, ${token}, 0)`,
    ]);
  });
});

/** Index of a host function in the trampoline module's imports (`$f<index>`). */
function importIndex(name: string): number {
  return IMPORT_TABLE.filter(
    (spec) => spec.abi.includes("0.2.1") && spec.module !== "wasi_unstable",
  ).findIndex((spec) => spec.name === name);
}

describe("gRPC token lifetime", opts, () => {
  // proxy_on_grpc_close and proxy_on_grpc_receive run `$op` on the token they got: 1 = proxy_grpc_cancel,
  // 2 = proxy_grpc_close; the result goes to `op_status`.
  const cancel = importIndex("proxy_grpc_cancel");
  const close = importIndex("proxy_grpc_close");
  const callbacks = `
  (global $op (export "op") (mut i32) (i32.const 0))
  (global $op_status (export "op_status") (mut i32) (i32.const -1))
  (func $run_op (param $token i32)
    (if (i32.eq (global.get $op) (i32.const 1)) (then (global.set $op_status (call $f${cancel} (local.get $token)))))
    (if (i32.eq (global.get $op) (i32.const 2)) (then (global.set $op_status (call $f${close} (local.get $token))))))
  (func (export "proxy_on_grpc_receive") (param i32 i32 i32) (call $run_op (local.get 1)))
  (func (export "proxy_on_grpc_close") (param i32 i32 i32) (call $run_op (local.get 1)))
  `;
  const s = shared(async () => {
    const t = await startAbiHarness({ clusters: ["grpc_cluster"], callbacks });
    const root = t.harness.plugin.root;
    return { t, run: <T>(fn: () => T) => t.inContext(root, fn) };
  });
  const global = (name: string) => s.t.vm.instance.exports[name] as { value: number };
  const start = (stream: boolean) => {
    const token = s.t.out();
    s.run(() => assert.equal(grpcStart(s.t, stream, "grpc_cluster", token), Status.Ok));
    const call = s.t.harness.grpcCalls.at(-1);
    assert.ok(call);
    return { call, token: s.t.u32(token) };
  };
  const opInCallback = (op: number, answer: () => void): number => {
    global("op").value = op;
    global("op_status").value = -1;
    answer();
    global("op").value = 0;
    return global("op_status").value;
  };

  for (const [name, op] of [
    ["proxy_grpc_cancel", 1],
    ["proxy_grpc_close", 2],
  ] as const) {
    test(`${name} from a failed call's proxy_on_grpc_close: OK, then NOT_FOUND`, () => {
      const { call, token } = start(false);
      assert.equal(
        opInCallback(op, () => call.close(14, "unavailable")),
        Status.Ok,
      );
      assert.equal(call.cancelled, false, "the upstream is not told: the call had ended");
      s.run(() => assert.equal(s.t.call(name, token), Status.NotFound));
    });

    test(`${name} from a unary call's proxy_on_grpc_receive: OK, then NOT_FOUND`, () => {
      const { call, token } = start(false);
      call.receive("pong");
      assert.equal(
        opInCallback(op, () => call.close(0)),
        Status.Ok,
      );
      s.run(() => assert.equal(s.t.call(name, token), Status.NotFound));
    });

    test(`${name} from a stream's proxy_on_grpc_close: OK, then NOT_FOUND`, () => {
      const { call, token } = start(true);
      assert.equal(
        opInCallback(op, () => call.close(0)),
        Status.Ok,
      );
      s.run(() => assert.equal(s.t.call(name, token), Status.NotFound));
    });
  }

  test("a stream the plugin had not closed stays valid after its close, until the plugin closes it", () => {
    const { call, token } = start(true);
    call.close(0);
    s.run(() => {
      assert.equal(s.t.call("proxy_grpc_close", token), Status.Ok);
      assert.equal(s.t.call("proxy_grpc_close", token), Status.NotFound);
    });
  });

  test("a stream the plugin had closed is gone once its close callback returns", () => {
    const { call, token } = start(true);
    s.run(() => assert.equal(s.t.call("proxy_grpc_close", token), Status.Ok));
    call.close(0);
    s.run(() => assert.equal(s.t.call("proxy_grpc_cancel", token), Status.NotFound));
  });
});

describe("pending callouts at a tear-down", opts, () => {
  // proxy_on_done answers `$done` (1 = done now, 0 = the plugin calls proxy_done later); `trap` traps.
  const callbacks = `
  (global $done (export "done") (mut i32) (i32.const 1))
  (global $callbacks (export "callbacks") (mut i32) (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (global.get $done))
  (func (export "trap") unreachable)
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
    (global.set $callbacks (i32.add (global.get $callbacks) (i32.const 1))))
  (func (export "proxy_on_grpc_receive") (param i32 i32 i32)
    (global.set $callbacks (i32.add (global.get $callbacks) (i32.const 1))))
  (func (export "proxy_on_grpc_close") (param i32 i32 i32)
    (global.set $callbacks (i32.add (global.get $callbacks) (i32.const 1))))
  `;
  /** Starts a plugin with an HTTP call, a gRPC call and a gRPC stream in flight, each watched for a cancel. */
  async function withCallouts() {
    const t = await startAbiHarness({ clusters: ["svc_cluster", "grpc_cluster"], callbacks });
    const root = t.harness.plugin.root;
    t.inContext(root, () => {
      assert.equal(httpCall(t, "svc_cluster", GOOD_HEADERS), Status.Ok);
      assert.equal(grpcStart(t, false), Status.Ok);
      assert.equal(grpcStart(t, true), Status.Ok);
    });
    const calls = [...t.harness.httpCalls, ...t.harness.grpcCalls];
    const upstreamCancels: string[] = [];
    for (const call of calls) call.onCancel = () => upstreamCancels.push(call.cluster);
    const answerAll = () => {
      const [http] = t.harness.httpCalls;
      const [unary, stream] = t.harness.grpcCalls;
      return [
        http!.respond({ headers: [[":status", "200"]] }),
        unary!.respond("late"),
        stream!.receive("late"),
        stream!.close(0),
      ];
    };
    const callbackCount = () => (t.vm.instance.exports.callbacks as { value: number }).value;
    return { t, calls, upstreamCancels, answerAll, callbackCount };
  }

  test("plugin shutdown cancels them: the upstream hears of it, no callback follows", async () => {
    const { t, calls, upstreamCancels, answerAll, callbackCount } = await withCallouts();
    t.harness.shutdown();
    assert.deepEqual(upstreamCancels, ["svc_cluster", "grpc_cluster", "grpc_cluster"]);
    assert.ok(calls.every((c) => c.cancelled));
    assert.deepEqual(answerAll(), [false, false, false, false]);
    assert.equal(callbackCount(), 0);
    assert.equal(t.harness.plugin.root.httpCalls.size + t.harness.plugin.root.grpcCalls.size, 0);
  });

  test("a shutdown the plugin defers (proxy_on_done false) keeps them until proxy_done", async () => {
    const { t, upstreamCancels } = await withCallouts();
    (t.vm.instance.exports.done as { value: number }).value = 0;
    t.harness.shutdown();
    assert.deepEqual(upstreamCancels, []);
    t.inContext(t.harness.plugin.root, () => assert.equal(t.call("proxy_done"), Status.Ok));
    assert.equal(upstreamCancels.length, 3);
  });

  test("a failed VM cancels them", async () => {
    const { t, upstreamCancels, answerAll, callbackCount } = await withCallouts();
    t.vm.invoke(t.harness.plugin.root, "trap", t.vm.instance.exports.trap as () => void);
    assert.equal(t.harness.plugin.failed, true);
    assert.equal(upstreamCancels.length, 3);
    assert.deepEqual(answerAll(), [false, false, false, false]);
    assert.equal(callbackCount(), 0);
  });
});
