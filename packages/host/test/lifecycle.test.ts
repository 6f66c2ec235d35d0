/** Callback order, stream state machines, failure policies and start-up, driven by the behaviour module. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginStartError } from "../src/plugin.ts";
import { startPlugin } from "../src/testing/index.ts";
import { Action, LogLevel, Status } from "../src/types.ts";
import { behaviourModule, flag, TRAP } from "./support/behaviour-module.ts";

const opts = { timeout: 30_000 };

/** The `[host->vm]` callback lines of a trace, without the prefix. */
function callbacks(lines: string[]): string[] {
  return lines.filter((l) => l.startsWith("[host->vm]")).map((l) => l.slice("[host->vm] ".length));
}

test("plugin start-up runs _initialize, context create (parent 0), vm start, configure", opts, async () => {
  const t = await startPlugin(behaviourModule(), {
    trace: true,
    vmConfiguration: "vmc",
    configuration: "pc!",
  });
  const root = t.plugin.root.id;
  assert.deepEqual(callbacks(t.traceLines), [
    "_initialize()",
    `proxy_on_context_create(${root}, 0)`,
    `proxy_on_vm_start(${root}, 3)`,
    `proxy_on_configure(${root}, 3)`,
  ]);
});

test("an HTTP stream calls every callback once, in order, and never after on_delete", opts, async () => {
  const t = await startPlugin(behaviourModule(), { trace: true });
  const http = t.http();
  const id = http.id;
  t.traceLines.length = 0;
  assert.equal(http.requestHeaders([[":path", "/"]], false), Action.Continue);
  assert.equal(http.requestBody("abc", false), Action.Continue);
  assert.equal(http.requestTrailers([["t", "1"]]), Action.Continue);
  assert.equal(http.responseHeaders([[":status", "200"]], false), Action.Continue);
  assert.equal(http.responseBody("xyz", true), Action.Continue);
  http.complete();
  assert.deepEqual(callbacks(t.traceLines), [
    `proxy_on_request_headers(${id}, 1, 0)`,
    `proxy_on_request_body(${id}, 3, 0)`,
    `proxy_on_request_trailers(${id}, 1)`,
    `proxy_on_response_headers(${id}, 1, 0)`,
    `proxy_on_response_body(${id}, 3, 1)`,
    `proxy_on_log(${id})`,
    `proxy_on_done(${id})`,
    `proxy_on_delete(${id})`,
  ]);
  t.traceLines.length = 0;
  http.responseBody("late", true);
  http.complete();
  assert.deepEqual(callbacks(t.traceLines), [], "no callback after proxy_on_delete");
  assert.equal(http.stream.deleted, true);
});

test("the plugin's header mutation is visible; bodies pass through unchanged", opts, async () => {
  const t = await startPlugin(behaviourModule());
  const http = t.http();
  http.requestHeaders([
    [":path", "/"],
    ["X-Wasm", "old"],
    ["x-wasm", "dup"],
  ]);
  assert.deepEqual(http.requestHeadersList, [
    [":path", "/"],
    ["x-wasm", "on"],
  ]);
  http.requestBody(new Uint8Array([0, 255, 10]), true);
  assert.deepEqual([...http.requestBodyBytes], [0, 255, 10]);
});

test("body Pause buffers chunks; the plugin sees the whole body and may replace it", opts, async () => {
  const t = await startPlugin(behaviourModule({ request_body_result: 1, redact_body: 1 }), { trace: true });
  const http = t.http();
  http.requestHeaders([[":path", "/"]]);
  t.traceLines.length = 0;
  assert.equal(http.requestBody("secret-", false), Action.Pause);
  assert.equal(http.stream.drainRequestBody().length, 0);
  flag(t.plugin.vm.instance, "request_body_result", 0);
  assert.equal(http.requestBody("data", true), Action.Continue);
  assert.deepEqual(callbacks(t.traceLines), [
    `proxy_on_request_body(${http.id}, 7, 0)`,
    `proxy_on_request_body(${http.id}, 11, 1)`,
  ]);
  assert.equal(http.requestBodyText, "REDACTED");
});

test("headers Pause holds body and trailers until the plugin resumes after its callout", opts, async () => {
  const t = await startPlugin(behaviourModule({ callout: 1, request_headers_result: 1 }), {
    trace: true,
    clusters: ["auth_cluster"],
  });
  const http = t.http();
  assert.equal(http.requestHeaders([[":path", "/"]]), Action.Pause);
  assert.equal(flag(t.plugin.vm.instance, "last_status"), Status.Ok);
  assert.equal(t.httpCalls.length, 1);
  const call = t.httpCalls[0]!;
  assert.equal(call.cluster, "auth_cluster");
  assert.equal(call.header(":path"), "/check");
  assert.equal(call.contextId, t.plugin.root.id);
  t.traceLines.length = 0;
  assert.equal(http.requestBody("held", true), Action.Pause, "held while stopped at headers");
  assert.deepEqual(callbacks(t.traceLines), [], "the plugin does not see held data");
  assert.equal(http.events.requestResumed, 0);
  // The answer arrives later, asynchronously.
  await new Promise((r) => setImmediate(r));
  assert.equal(call.respond({ headers: [[":status", "200"]], body: "ok" }), true);
  assert.equal(http.events.requestResumed, 1);
  assert.deepEqual(callbacks(t.traceLines), [
    `proxy_on_http_call_response(${t.plugin.root.id}, ${call.id}, 1, 2, 0)`,
    `proxy_on_request_body(${http.id}, 4, 1)`,
  ]);
  assert.equal(http.requestBodyText, "held");
  assert.equal(call.respond({ headers: [] }), false, "a second answer is ignored");
});

test("an unknown callout cluster is BAD_ARGUMENT", opts, async () => {
  const t = await startPlugin(behaviourModule({ callout: 1 }), { clusters: ["other"] });
  t.http().requestHeaders([[":path", "/"]]);
  assert.equal(flag(t.plugin.vm.instance, "last_status"), Status.BadArgument);
  assert.equal(t.httpCalls.length, 0);
});

test(
  "a callout timeout answers 504 upstream request timeout (Envoy's router reply) when the clock passes it",
  opts,
  async () => {
    const t = await startPlugin(behaviourModule({ callout: 1, request_headers_result: 1 }), { trace: true });
    const http = t.http();
    http.requestHeaders([[":path", "/"]]);
    const call = t.httpCalls[0]!;
    t.traceLines.length = 0;
    t.advance(4999);
    assert.equal(call.finished, false);
    t.advance(1);
    assert.equal(call.finished, true);
    assert.deepEqual(callbacks(t.traceLines).slice(0, 1), [
      `proxy_on_http_call_response(${t.plugin.root.id}, ${call.id}, 3, 24, 0)`,
    ]);
    assert.equal(t.plugin.root.statusCode, Status.Ok);
  },
);

test(
  'a failed callout reads BROKEN_CONNECTION and "reset" whatever the embedder\'s reason',
  opts,
  async () => {
    const t = await startPlugin(behaviourModule({ callout: 1, request_headers_result: 1 }));
    t.http().requestHeaders([[":path", "/"]]);
    const call = t.httpCalls[0]!;
    call.fail("no healthy upstream");
    assert.equal(call.failureReason, "no healthy upstream");
    assert.equal(t.plugin.root.statusCode, Status.BrokenConnection);
    assert.equal(new TextDecoder().decode(t.plugin.root.statusMessage), "reset");
  },
);

test("a local reply from request headers pauses the stream and reaches the embedder", opts, async () => {
  const t = await startPlugin(behaviourModule({ local_reply: 1 }));
  const http = t.http();
  assert.equal(http.requestHeaders([[":path", "/"]]), Action.Pause);
  const reply = http.localReply!;
  assert.equal(reply.statusCode, 403);
  assert.equal(reply.details, "denied_by_plugin");
  assert.equal(http.localReplyBodyText, "forbidden");
  assert.equal(reply.grpcStatus, null);
  assert.deepEqual(
    reply.headers.map(([k, v]) => [new TextDecoder().decode(k), new TextDecoder().decode(v)]),
    [["x-reason", "test"]],
  );
  assert.equal(http.events.localReplies.length, 1);
});

test(
  "a local reply stops only the callback that sent it: the reply's response callbacks return what the plugin says",
  opts,
  async () => {
    // cpp-host exports.cc send_local_response -> stopNextIteration(true), cleared by DeferAfterCallActions
    // when that callback returns; Envoy runs the reply through the encoder filters, this plugin included.
    const t = await startPlugin(behaviourModule({ local_reply: 1 }), { trace: true });
    const http = t.http();
    const id = http.id;
    assert.equal(http.requestHeaders([[":path", "/"]], true), Action.Pause, "the sending callback stops");
    t.traceLines.length = 0;
    assert.equal(http.responseHeaders([[":status", "403"]], false), Action.Continue);
    assert.equal(http.responseBody("forbidden", true), Action.Continue);
    assert.equal(http.responseBodyText, "forbidden", "the reply's body is released");
    assert.deepEqual(callbacks(t.traceLines), [
      `proxy_on_response_headers(${id}, 1, 0)`,
      `proxy_on_response_body(${id}, 9, 1)`,
    ]);
  },
);

test("a plugin holding its own local reply's response headers resumes it", opts, async () => {
  const t = await startPlugin(behaviourModule({ local_reply: 1, response_headers_result: 1 }));
  const http = t.http();
  http.requestHeaders([[":path", "/"]], true);
  assert.equal(http.responseHeaders([[":status", "403"]], false), Action.Pause, "the plugin's own Pause");
  assert.equal(http.stream.continueStream(1), Status.Ok);
  assert.equal(http.events.responseResumed, 1, "the response resumes after a local reply");
  assert.equal(http.stream.continueStream(0), Status.Ok);
  assert.equal(http.events.requestResumed, 0, "the request side stays over");
});

test(
  "an embedder that runs the local reply at once still gets Pause from the sending callback",
  opts,
  async () => {
    const t = await startPlugin(behaviourModule({ local_reply: 1 }));
    const seen: Action[] = [];
    const stream = t.plugin.newHttpStream({
      events: {
        // The reply goes through the response callbacks from inside the deferred delivery, as Envoy's
        // sendLocalReply runs the encoder chain from the request callback's after-call action.
        onLocalReply: () => seen.push(stream.responseHeaders([[":status", "403"]], true)),
      },
    });
    assert.equal(stream.requestHeaders([[":path", "/"]], true), Action.Pause);
    assert.deepEqual(seen, [Action.Continue]);
  },
);

test(
  "proxy_on_done returning false: streams are deleted anyway (Envoy); a root context waits for proxy_done",
  opts,
  async () => {
    const t = await startPlugin(behaviourModule({ done_result: 0 }), { trace: true });
    const http = t.http();
    http.requestHeaders([[":path", "/"]], true);
    t.traceLines.length = 0;
    http.complete();
    assert.deepEqual(callbacks(t.traceLines), [
      `proxy_on_log(${http.id})`,
      `proxy_on_done(${http.id})`,
      `proxy_on_delete(${http.id})`,
    ]);
    assert.equal(http.stream.deleted, true);
    const root = t.plugin.root;
    t.traceLines.length = 0;
    t.shutdown();
    assert.deepEqual(callbacks(t.traceLines), [`proxy_on_done(${root.id})`]);
    assert.equal(root.deleted, false);
    assert.equal(root.pluginDone(), Status.Ok);
    assert.deepEqual(callbacks(t.traceLines).slice(1), [`proxy_on_delete(${root.id})`]);
    assert.equal(root.deleted, true);
    assert.equal(root.pluginDone(), Status.NotFound);
  },
);

test("map lifetimes follow Envoy: visible in the phase and while held, and in on_log", opts, async () => {
  const t = await startPlugin(behaviourModule());
  const http = t.http();
  http.requestHeaders([[":path", "/"]]);
  const vm = t.plugin.vm;
  assert.equal(http.stream.getMap(0), null, "request headers gone after the phase continued");
  assert.equal(http.stream.request.headers?.size, 2, "the embedder still has them (with the plugin's edit)");
  http.responseHeaders([[":status", "200"]]);
  const seen: Array<number | undefined> = [];
  const onLog = vm.exports.proxy_on_log;
  vm.exports.proxy_on_log = (id: number) => {
    seen.push(http.stream.getMap(0)?.size, http.stream.getMap(2)?.size, http.stream.getMap(1)?.size);
    onLog?.(id);
  };
  http.complete();
  assert.deepEqual(
    seen,
    [2, 1, 0],
    "on_log sees request and response headers; request trailers read as empty",
  );
});

test("ticks fire from the manual clock at the period the plugin set", opts, async () => {
  const t = await startPlugin(behaviourModule());
  t.plugin.root.setTickPeriod(100);
  t.advance(350);
  assert.deepEqual(t.logs("info"), ["tick", "tick", "tick"]);
  t.plugin.root.setTickPeriod(0);
  t.advance(1000);
  assert.equal(t.logs("info").length, 3);
});

test("TCP: data both ways, pause and resume, routing via set_envoy_filter_state, closes", opts, async () => {
  const t = await startPlugin(behaviourModule({ route_tcp: 1, downstream_result: 1 }), { trace: true });
  const tcp = t.tcp({ "source.address": "10.0.0.2:4000" });
  assert.equal(tcp.newConnection(), Action.Continue);
  assert.equal(flag(t.plugin.vm.instance, "last_status"), Status.Ok);
  assert.equal(tcp.upstreamCluster, "egress_b");
  assert.equal(tcp.downstreamData("hel"), Action.Pause);
  flag(t.plugin.vm.instance, "downstream_result", 0);
  t.traceLines.length = 0;
  assert.equal(tcp.downstreamData("lo"), Action.Continue);
  assert.deepEqual(callbacks(t.traceLines), [`proxy_on_downstream_data(${tcp.id}, 5, 0)`]);
  assert.equal(new TextDecoder().decode(tcp.forwardedUpstream), "hello");
  assert.equal(tcp.upstreamData("world", true), Action.Continue);
  assert.equal(new TextDecoder().decode(tcp.forwardedDownstream), "world");
  t.traceLines.length = 0;
  tcp.closeDownstream();
  tcp.closeUpstream(1);
  tcp.complete();
  assert.deepEqual(callbacks(t.traceLines), [
    `proxy_on_downstream_connection_close(${tcp.id}, 2)`,
    `proxy_on_upstream_connection_close(${tcp.id}, 1)`,
    // Envoy's Context::onCloseTCP: onDone, onLog, onDelete (HTTP logs first).
    `proxy_on_done(${tcp.id})`,
    `proxy_on_log(${tcp.id})`,
    `proxy_on_delete(${tcp.id})`,
  ]);
});

test(
  "TCP: a chunk handed over goes on as the same array when the plugin continues; filter-state writes are counted",
  opts,
  async () => {
    const t = await startPlugin(behaviourModule({ route_tcp: 1, downstream_result: 1 }));
    const stream = t.plugin.newTcpStream();
    assert.equal(stream.filterStateVersion, 0);
    assert.equal(stream.newConnection(), Action.Continue);
    // set_envoy_filter_state("envoy.tcp_proxy.cluster") in proxy_on_new_connection: one write.
    assert.equal(stream.filterStateVersion, 1);
    const upstreamChunk = new Uint8Array([1, 2, 3]);
    assert.equal(stream.upstreamDataOwned(upstreamChunk), Action.Continue);
    assert.equal(stream.drainUpstream(), upstreamChunk, "an owned chunk is forwarded without a copy");
    const given = new Uint8Array([4, 5]);
    assert.equal(stream.upstreamData(given), Action.Continue);
    const forwarded = stream.drainUpstream();
    assert.notEqual(forwarded, given, "a borrowed chunk is copied");
    assert.deepEqual([...forwarded], [4, 5]);
    // Held downstream data (the plugin pauses) joins the next owned chunk: the whole buffer goes on.
    assert.equal(stream.downstreamDataOwned(new Uint8Array([6])), Action.Pause);
    flag(t.plugin.vm.instance, "downstream_result", 0);
    assert.equal(stream.downstreamDataOwned(new Uint8Array([7])), Action.Continue);
    assert.deepEqual([...stream.drainDownstream()], [6, 7]);
    assert.equal(stream.filterStateVersion, 1, "data callbacks wrote no filter state");
    stream.complete();
  },
);

test("proxy_on_vm_start or proxy_on_configure returning false is a start error naming it", opts, async () => {
  await assert.rejects(startPlugin(behaviourModule({ vm_start_result: 0 }), { name: "p1" }), (err: Error) => {
    assert.ok(err instanceof PluginStartError);
    assert.match(err.message, /p1: proxy_on_vm_start returned false/);
    return true;
  });
  await assert.rejects(
    startPlugin(behaviourModule({ configure_result: 0 }), { name: "p2" }),
    /p2: proxy_on_configure returned false/,
  );
  await assert.rejects(
    startPlugin(behaviourModule({ trap_in: TRAP.configure })),
    /proxy_on_configure failed: .*unreachable/,
  );
  await assert.rejects(
    startPlugin(behaviourModule({ trap_in: TRAP.start })),
    /start-up \(_initialize\) failed/,
  );
});

test("FAIL_CLOSED: a trap fails the VM, the stream gets a 503, later streams too", opts, async () => {
  const t = await startPlugin(behaviourModule({ trap_in: TRAP.requestHeaders }), {
    failurePolicy: "FAIL_CLOSED",
  });
  const http = t.http();
  assert.equal(http.requestHeaders([[":path", "/"]]), Action.Pause);
  assert.equal(http.localReply?.statusCode, 503);
  assert.equal(http.localReply?.details, "wasm_fail_stream");
  assert.equal(t.plugin.failed, true);
  assert.match(t.logs(LogLevel.Critical)[0]!, /VM failed in proxy_on_request_headers/);
  const next = t.http();
  assert.equal(next.requestHeaders([[":path", "/"]]), Action.Pause);
  assert.equal(next.localReply?.statusCode, 503);
  const tcp = t.tcp();
  assert.equal(tcp.newConnection(), Action.Pause);
  assert.deepEqual(tcp.events.closes, ["downstream"]);
});

test("FAIL_OPEN: the plugin is bypassed after a trap", opts, async () => {
  const t = await startPlugin(behaviourModule({ trap_in: TRAP.requestBody }), { failurePolicy: "FAIL_OPEN" });
  const http = t.http();
  assert.equal(http.requestHeaders([[":path", "/"]]), Action.Continue);
  assert.equal(http.requestBody("abc", true), Action.Continue);
  assert.equal(http.requestBodyText, "abc");
  assert.equal(http.localReply, null);
  const next = t.http();
  assert.equal(next.requestHeaders([[":path", "/"]]), Action.Continue);
  assert.equal(next.requestHeader("x-wasm"), undefined, "bypassed: no mutation");
});

test("FAIL_RELOAD: a fresh VM after the backoff; closed until then", opts, async () => {
  const t = await startPlugin(behaviourModule({ trap_in: TRAP.downstreamData }), {
    failurePolicy: "FAIL_RELOAD",
    reloadBackoffMs: 500,
  });
  const first = t.tcp();
  first.newConnection();
  assert.equal(first.downstreamData("x"), Action.Pause);
  const failedVm = t.plugin.vm;
  assert.equal(failedVm.failed, true);
  const reloaded = t.tcp();
  assert.equal(reloaded.newConnection(), Action.Continue, "first reload happens at once");
  assert.equal(t.plugin.reloads, 1);
  assert.notEqual(t.plugin.vm, failedVm);
  reloaded.downstreamData("y");
  assert.equal(t.plugin.failed, true);
  const during = t.tcp();
  assert.equal(during.newConnection(), Action.Pause, "within the backoff: closed");
  assert.equal(t.plugin.reloads, 1);
  t.advance(500);
  const after = t.tcp();
  assert.equal(after.newConnection(), Action.Continue);
  assert.equal(t.plugin.reloads, 2);
});

test("several plugins and root contexts share one VM", opts, async () => {
  const t = await startPlugin(behaviourModule(), {
    name: "a",
    rootId: "root_a",
    vmId: "shared",
    trace: true,
  });
  const b = t.startPlugin({ name: "b", rootId: "root_b" });
  assert.equal(b.plugin.vm, t.plugin.vm);
  assert.notEqual(b.plugin.root.id, t.plugin.root.id);
  const hb = b.http();
  hb.requestHeaders([[":path", "/"]]);
  assert.ok(t.traceLines.includes(`[host->vm] proxy_on_context_create(${hb.id}, ${b.plugin.root.id})`));
  const other = await startPlugin(behaviourModule(), { vmId: "other" });
  assert.notEqual(other.plugin.vm, t.plugin.vm);
});

test("embedder contract: when the resume event fires, the held body is already released", opts, async () => {
  const t = await startPlugin(behaviourModule({ callout: 1, request_headers_result: 1 }));
  const drained: string[] = [];
  const stream = t.plugin.newHttpStream({
    events: { onResumeRequest: () => drained.push(new TextDecoder().decode(stream.drainRequestBody())) },
  });
  assert.equal(stream.requestHeaders([[":path", "/"]]), Action.Pause);
  assert.equal(stream.requestBody("held body", true), Action.Pause);
  assert.equal(stream.drainRequestBody().length, 0);
  t.httpCalls[0]!.respond({ headers: [[":status", "200"]] });
  assert.deepEqual(drained, ["held body"]);
  assert.equal(stream.requestPaused, false);
});

test("FAIL_RELOAD: plugins of one VM id reload onto one fresh VM", opts, async () => {
  const a = await startPlugin(behaviourModule({ trap_in: TRAP.downstreamData }), {
    name: "a",
    rootId: "ra",
    vmId: "shared",
    failurePolicy: "FAIL_RELOAD",
  });
  const b = a.startPlugin({ name: "b", rootId: "rb", failurePolicy: "FAIL_RELOAD" });
  const conn = a.tcp();
  conn.newConnection();
  conn.downstreamData("x");
  assert.equal(a.plugin.failed && b.plugin.failed, true, "one VM: both plugins see the failure");
  a.tcp().newConnection();
  b.tcp().newConnection();
  assert.equal(a.plugin.vm, b.plugin.vm, "both moved to the same fresh VM");
  assert.equal(a.plugin.vm.failed, false);
  assert.notEqual(a.plugin.root.id, b.plugin.root.id);
});

test(
  "an answer that arrives during a guest call is delivered after it returns (no re-entry)",
  opts,
  async () => {
    const t = await startPlugin(behaviourModule({ callout: 1, request_headers_result: 1 }), { trace: true });
    const http = t.http();
    http.requestHeaders([[":path", "/"]]);
    const call = t.httpCalls[0]!;
    const vm = t.plugin.vm;
    let linesDuringCall = -1;
    vm.invoke(t.plugin.root, "embedder-driven call", () => {
      call.respond({ headers: [[":status", "200"]] });
      linesDuringCall = callbacks(t.traceLines).filter((l) =>
        l.startsWith("proxy_on_http_call_response"),
      ).length;
    });
    assert.equal(linesDuringCall, 0, "not delivered inside the running call");
    assert.equal(
      callbacks(t.traceLines).filter((l) => l.startsWith("proxy_on_http_call_response")).length,
      1,
    );
    assert.equal(http.events.requestResumed, 1);
  },
);

test(
  "a stream whose request never reached the plugin: later phases pass by it; on_log sees the access-log maps",
  opts,
  async () => {
    const t = await startPlugin(behaviourModule(), { trace: true });
    const http = t.http();
    const id = http.id;
    t.traceLines.length = 0;
    // An earlier filter answered: the data plane runs the reply (and anything else) through this filter.
    assert.equal(http.requestBody("early", false), Action.Continue);
    assert.equal(http.requestTrailers([["t", "1"]]), Action.Continue);
    assert.equal(http.responseHeaders([[":status", "403"]], false), Action.Continue);
    assert.equal(http.responseBody("denied", false), Action.Continue);
    assert.equal(http.responseTrailers([["grpc-status", "7"]]), Action.Continue);
    assert.equal(http.responseBodyText, "denied", "the body passed through untouched");
    assert.deepEqual(callbacks(t.traceLines), [], "no phase entered the plugin");
    assert.equal(http.localReply, null, "nor was the stream failed for it");

    const vm = t.plugin.vm;
    const seen: Array<string | undefined> = [];
    const onLog = vm.exports.proxy_on_log;
    vm.exports.proxy_on_log = (ctx: number) => {
      seen.push(http.stream.getMap(0)?.getString(":path"), http.stream.getMap(2)?.getString(":status"));
      onLog?.(ctx);
    };
    http.complete({ requestHeaders: [[":path", "/denied"]] });
    assert.deepEqual(seen, ["/denied", "403"], "on_log shows the access log's request and response headers");
    assert.deepEqual(callbacks(t.traceLines), [
      `proxy_on_log(${id})`,
      `proxy_on_done(${id})`,
      `proxy_on_delete(${id})`,
    ]);
  },
);

test(
  "a stream reset before it completed ends incomplete: on_log, done, delete, and no later phase",
  opts,
  async () => {
    const t = await startPlugin(behaviourModule(), { trace: true });
    const http = t.http();
    const id = http.id;
    assert.equal(http.requestHeaders([[":path", "/"]], false), Action.Continue);
    t.traceLines.length = 0;
    http.reset();
    assert.equal(http.stream.incomplete, true);
    assert.deepEqual(callbacks(t.traceLines), [
      `proxy_on_log(${id})`,
      `proxy_on_done(${id})`,
      `proxy_on_delete(${id})`,
    ]);
    t.traceLines.length = 0;
    assert.equal(http.responseHeaders([[":status", "200"]]), Action.Continue);
    assert.equal(http.responseBody("late", true), Action.Continue);
    assert.deepEqual(callbacks(t.traceLines), []);
    assert.equal(http.localReply, null, "a phase after the end is no failure");
  },
);

test(
  "TCP: data before newConnection passes by the plugin (Envoy creates its context there)",
  opts,
  async () => {
    const t = await startPlugin(behaviourModule({ downstream_result: 1 }), { trace: true });
    const tcp = t.tcp();
    t.traceLines.length = 0;
    assert.equal(tcp.downstreamData("early"), Action.Continue);
    assert.equal(tcp.upstreamData("back"), Action.Continue);
    assert.deepEqual(callbacks(t.traceLines), []);
    assert.equal(new TextDecoder().decode(tcp.forwardedUpstream), "early");
    assert.equal(tcp.newConnection(), Action.Continue);
    assert.equal(tcp.downstreamData("held"), Action.Pause, "from then on the plugin sees the data");
  },
);
