/**
 * The hand-written `.wat` fixtures (test/fixtures/*.wat) run in the test harness: what an AssemblyScript SDK
 * does not exercise (TCP filters, metrics, gRPC, shared queues, foreign functions) and modules shaped like
 * Rust SDK, Go SDK and ABI v0.1.0 output. Each fixture's header comment says what it does; the expected
 * statuses are Envoy's (source/extensions/common/wasm/context.cc) and proxy-wasm-cpp-host's.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ModuleLoadError, PeerType, Status } from "@proxy-wasm-ts/host";
import { type HarnessOptions, type PluginHarness, startPlugin } from "@proxy-wasm-ts/host/testing";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";

const TIMEOUT = { timeout: 30_000 };
const decoder = new TextDecoder();

async function fixture(name: string): Promise<Uint8Array> {
  const path = join(import.meta.dirname, "fixtures", `${name}.wat`);
  return compileWat(await readFile(path, "utf8"), `${name}.wat`);
}

async function start(name: string, options: HarnessOptions = {}): Promise<PluginHarness> {
  return startPlugin(await fixture(name), { name, ...options });
}

const REQUEST: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/orders/42"],
  [":authority", "shop.example"],
];

test("TCP filter: routes by source address through set_envoy_filter_state", TIMEOUT, async () => {
  const t = await start("tcp-filter");
  const even = t.tcp({ "source.address": "10.0.0.8:5555" });
  assert.equal(even.newConnection(), 0);
  assert.equal(even.upstreamCluster, "egress-router1");
  assert.equal(even.filterState("envoy.tcp_proxy.cluster"), "egress-router1");

  const odd = t.tcp({ "source.address": "192.168.1.17:40000" });
  odd.newConnection();
  assert.equal(odd.upstreamCluster, "egress-router2");
  assert.deepEqual(t.logs("info").slice(0, 4), [
    "set_envoy_filter_state status 00",
    "routed to egress-router1",
    "set_envoy_filter_state status 00",
    "routed to egress-router2",
  ]);
});

test("TCP filter: data both ways is rewritten, both closes arrive with their peer", TIMEOUT, async () => {
  const t = await start("tcp-filter");
  const conn = t.tcp({ "source.address": "10.1.2.4:1234" });
  conn.newConnection();
  assert.equal(conn.downstreamData("hello"), 0);
  assert.equal(decoder.decode(conn.forwardedUpstream), "> hello");
  assert.equal(conn.upstreamData("world"), 0);
  assert.equal(decoder.decode(conn.forwardedDownstream), "world <");
  conn.downstreamData(new Uint8Array([0, 255, 10]));
  assert.deepEqual([...conn.forwardedUpstream.subarray(7)], [0x3e, 0x20, 0, 255, 10]);

  conn.closeUpstream(PeerType.Local);
  conn.closeDownstream(PeerType.Remote);
  conn.complete();
  const logs = t.logs("info");
  assert.ok(logs.includes("upstream closed, peer 1"), logs.join("\n"));
  assert.ok(logs.includes("downstream closed, peer 2"), logs.join("\n"));
  assert.equal(t.plugin.failed, false);
});

test("TCP filter: an address the filter cannot read leaves the cluster unset", TIMEOUT, async () => {
  const t = await start("tcp-filter");
  const conn = t.tcp();
  conn.newConnection();
  assert.equal(conn.upstreamCluster, undefined);
  assert.ok(t.logs("info").includes("no source.address"));
});

test("metrics: all three types defined, updated and read back; Envoy's refusals", TIMEOUT, async () => {
  const t = await start("metrics");
  // on_configure: each call Envoy refuses, with Envoy's status.
  assert.deepEqual(t.logs("info"), [
    `define_bad_type=${Status.BadArgument}`,
    `increment_counter_by_zero=${Status.BadArgument}`,
    `increment_counter_negative=${Status.BadArgument}`,
    `increment_histogram=${Status.BadArgument}`,
    `get_histogram=${Status.BadArgument}`,
    `get_unknown=${Status.NotFound}`,
    `record_unknown=${Status.NotFound}`,
    `record_gauge=${Status.Ok}`,
    "get_gauge_after_record=40",
    "counter_after_two_records=5",
  ]);
  assert.equal(t.gauge("fixture.active"), 0n, "the gauge was set back to 0 after the check");

  const first = t.http();
  first.requestHeaders(REQUEST);
  assert.equal(first.requestHeader("x-requests-seen"), "6");
  assert.equal(t.counter("fixture.requests"), 6n);
  assert.equal(t.gauge("fixture.active"), 1n);
  first.requestBody("12345", true);

  const second = t.http();
  second.requestHeaders(REQUEST);
  assert.equal(second.requestHeader("x-requests-seen"), "7");
  assert.equal(t.gauge("fixture.active"), 2n);
  second.requestBody("x".repeat(300), true);

  first.complete();
  assert.equal(t.gauge("fixture.active"), 1n, "on_log took the gauge down by a negative increment");
  second.complete();
  assert.equal(t.gauge("fixture.active"), 0n);
  assert.equal(t.counter("fixture.requests"), 7n);
  assert.deepEqual(t.histogram("fixture.body_bytes"), [5n, 300n]);

  const text = t.prometheus();
  assert.match(text, /fixture_requests\S* 7\n/);
  assert.match(text, /fixture_active\S* 0\n/);
  assert.match(text, /fixture_body_bytes_count\S* 2\n/);
});

test("gRPC: call, stream, send, cancel and close; the four callbacks", TIMEOUT, async () => {
  const t = await start("grpc");
  const http = t.http();
  assert.equal(http.requestHeaders(REQUEST), 1, "the request waits for the unary call");
  assert.deepEqual(t.logs("info"), ["grpc_call=0", "grpc_stream=0", "grpc_send=0", "grpc_cancel=0"]);

  const [call, stream, doomed] = t.grpcCalls;
  assert.ok(call && stream && doomed, "three gRPC callouts");
  assert.equal(t.grpcCalls.length, 3);
  assert.deepEqual(
    [call.cluster, call.service, call.method, call.streaming, call.timeoutMs],
    ["grpc_backend", "fixture.Echo", "Say", false, 1000],
  );
  assert.deepEqual(
    call.initialMetadata.map(([k, v]) => [decoder.decode(k), decoder.decode(v)]),
    [["x-fixture", "1"]],
  );
  assert.deepEqual(
    call.sent.map((m) => decoder.decode(m)),
    ["ping"],
  );
  assert.deepEqual([stream.method, stream.streaming], ["Chat", true]);
  assert.deepEqual(
    stream.sent.map((m) => decoder.decode(m)),
    ["hello"],
  );
  assert.equal(stream.localClosed, false, "send with end_stream=0 keeps the stream open");
  assert.equal(doomed.method, "Doomed");
  assert.equal(doomed.cancelled, true);
  assert.equal(doomed.receive("too late"), false, "a cancelled call takes no answer");

  call.receiveInitialMetadata([["x-md", "meta-1"]]);
  call.receive("pong");
  call.receiveTrailingMetadata([["x-trailer", "t-1"]]);
  assert.equal(http.events.requestResumed, 0);
  call.close(0);
  // A unary call's success is its message alone (Envoy's onSuccessRaw): no proxy_on_grpc_close, so the
  // fixture, which resumes from there, leaves the request paused.
  assert.equal(http.events.requestResumed, 0, "no close callback after a successful unary call");
  assert.equal(call.close(14, "unavailable"), false, "a closed call takes no second answer");

  stream.receive("chat-1");
  assert.equal(stream.localClosed, true, "proxy_grpc_close half-closed the stream");
  assert.deepEqual(t.logs("info").slice(4), ["message call: pong", "message stream: chat-1", "grpc_close=0"]);
  assert.ok(!t.logs("info").some((l) => l.includes("too late")));
  stream.close(14, "unavailable");
  assert.equal(t.logs("info").at(-1), "close stream status=14");
  http.complete();
  assert.equal(t.plugin.failed, false);
});

test("shared queues: register, resolve, enqueue, on_queue_ready drains, errors", TIMEOUT, async () => {
  const t = await start("queues", { vmId: "queue-vm" });
  assert.deepEqual(t.logs("info"), [
    "register=0",
    "resolve=0",
    "resolve_same_id=1",
    `resolve_unknown=${Status.NotFound}`,
    `enqueue_unknown=${Status.NotFound}`,
    `dequeue_unknown=${Status.NotFound}`,
  ]);

  const http = t.http();
  http.requestHeaders([[":path", "/jobs/1"]]);
  assert.deepEqual(t.logs("info").slice(6), [
    "enqueue=0",
    "dequeued: /jobs/1",
    `dequeue_end=${Status.Empty}`,
  ]);
  assert.deepEqual(t.queueItems("fixture_jobs"), []);

  assert.equal(t.enqueue("fixture_jobs", "from outside"), true);
  assert.deepEqual(t.logs("info").slice(9), ["dequeued: from outside", `dequeue_end=${Status.Empty}`]);
  assert.equal(t.enqueue("no_such_queue", "x"), false);
});

test(
  "foreign functions: Envoy's, a missing one, a registered one, and on_foreign_function",
  TIMEOUT,
  async () => {
    const seen: string[] = [];
    const t = await start("foreign", {
      foreignFunctions: {
        fixture_reverse: ({ args }) => {
          seen.push(decoder.decode(args));
          return { status: Status.Ok, result: args.slice().reverse() };
        },
      },
    });
    assert.deepEqual(t.logs("info"), [
      "clear_route_cache=0",
      `no_such_function=${Status.NotFound}`,
      "fixture_reverse=0",
      "result: cba",
    ]);
    assert.deepEqual(seen, ["abc"]);

    t.callOnForeignFunction(7, "payload \u00e9");
    assert.equal(t.logs("info").at(-1), "foreign_function 7: payload \u00e9");
    t.callOnForeignFunction(0, new Uint8Array(0));
    assert.equal(t.logs("info").at(-1), "foreign_function 0: ");
  },
);

test(
  "Rust-shaped module: _initialize runs first; WASI output, randomness, clocks, environment",
  TIMEOUT,
  async () => {
    const t = await start("rust-shaped", { environment: { FIXTURE_GREETING: "hello=world", EMPTY: "" } });
    assert.equal(t.plugin.module.abiVersion, "0.2.1");
    // The harness's manual clock: wall time starts at a fixed epoch, monotonic time wherever the clock says.
    const monotonicNonZero = t.clock.monotonicNanoseconds() === 0n ? 0 : 1;
    assert.deepEqual(t.logs("info"), [
      "hello from stdout",
      "random_get=0",
      "realtime_clock_nonzero=1",
      `monotonic_clock_nonzero=${monotonicNonZero}`,
      "environ_count=2",
      "env: FIXTURE_GREETING=hello=world",
      "env: EMPTY=",
    ]);
    assert.deepEqual(t.logs("error"), ["oops on stderr"]);
    const http = t.http();
    http.requestHeaders(REQUEST);
    assert.equal(http.requestHeader("x-shaped-like"), "rust");
  },
);

test("Go-shaped module: ABI 0.2.0, _start runs, args are empty, sched_yield succeeds", TIMEOUT, async () => {
  const t = await start("go-shaped");
  assert.equal(t.plugin.module.abiVersion, "0.2.0");
  assert.deepEqual(t.logs("info"), ["argc=0 argv_size=0", "sched_yield=0"]);
  const http = t.http();
  assert.equal(http.requestHeaders(REQUEST, true), 0);
  assert.equal(http.requestHeader("x-shaped-like"), "go");
});

test(
  "C++-shaped (Emscripten) module: _initialize then main(0, 0); Emscripten imports; growth",
  TIMEOUT,
  async () => {
    const t = await start("cpp-shaped");
    // Start-up runs before any plugin context exists, so its lines carry no plugin name (as in Envoy).
    const lines = t.testHost.logEntries.map((e) => `${e.pluginName}: ${e.message}`);
    assert.deepEqual(lines, [
      ": initialize",
      ": main argc=0",
      ": pthread_equal=1",
      "cpp-shaped: grew to 5 pages",
    ]);
    const http = t.http();
    http.requestHeaders(REQUEST);
    assert.equal(http.requestHeader("x-shaped-like"), "cpp");
    assert.equal(t.plugin.failed, false);
  },
);

test(
  "ABI v0.1.0 module: proxy_get_configuration, two-argument header callbacks, v0.1.0 hostcalls",
  TIMEOUT,
  async () => {
    const t = await start("abi-v0-1-0", { configuration: "legacy-config" });
    assert.equal(t.plugin.module.abiVersion, "0.1.0");
    assert.deepEqual(t.logs("info"), ["configuration: legacy-config"]);
    const http = t.http();
    http.requestHeaders(REQUEST);
    assert.equal(http.requestHeader("x-abi"), "0.1.0");
    assert.equal(t.logs("info").at(-1), "clear_route_cache=0");
    http.responseHeaders([[":status", "200"]]);
    assert.equal(t.logs("info").at(-1), "continue_request=0");
    assert.equal(t.plugin.failed, false);
  },
);

test("a module importing an unknown host function fails to load, naming it", TIMEOUT, async () => {
  await assert.rejects(start("unknown-import"), (err: unknown) => {
    assert.ok(err instanceof ModuleLoadError, String(err));
    assert.match(err.message, /env\.proxy_frobnicate_widget/);
    return true;
  });
});

test("a module without an ABI version marker fails to load", TIMEOUT, async () => {
  await assert.rejects(start("no-abi-version"), (err: unknown) => {
    assert.ok(err instanceof ModuleLoadError, String(err));
    assert.match(err.message, /missing or unknown Proxy-Wasm ABI version/);
    return true;
  });
});

test("proc_exit fails the VM as in cpp-host; the failure policy decides the stream", TIMEOUT, async () => {
  const closed = await start("proc-exit");
  const first = closed.http();
  first.requestHeaders(REQUEST);
  assert.deepEqual(closed.logs("info"), ["about to exit"]);
  assert.equal(closed.plugin.failed, true);
  assert.equal(first.localReply?.statusCode, 503, "FAIL_CLOSED (Envoy's default) answers 503");
  const next = closed.http();
  next.requestHeaders(REQUEST);
  assert.equal(next.localReply?.statusCode, 503);
  assert.deepEqual(closed.logs("info"), ["about to exit"], "a failed VM runs no more plugin code");

  const open = await start("proc-exit", { failurePolicy: "FAIL_OPEN" });
  open.http().requestHeaders(REQUEST);
  const bypassed = open.http();
  assert.equal(bypassed.requestHeaders(REQUEST), 0);
  assert.equal(bypassed.localReply, null, "FAIL_OPEN bypasses the failed plugin");
});
