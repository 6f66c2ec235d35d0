/** The test harness itself: manual clock, recording upstream, shared data and queues, metrics, foreign functions. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serializePairs } from "../src/pairs.ts";
import { ManualClock, RecordingUpstream } from "../src/testing/index.ts";
import { MetricType, Status } from "../src/types.ts";
import { startAbiHarness } from "./support/abi-module.ts";

const opts = { timeout: 30_000 };

test("ManualClock fires due timers in time order, including timers set by timers", () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimer(30, () => fired.push("b@30"));
  const cancelled = clock.setTimer(20, () => fired.push("never"));
  clock.setTimer(10, () => {
    fired.push("a@10");
    clock.setTimer(5, () => fired.push("c@15"));
  });
  clock.clearTimer(cancelled);
  clock.advance(29);
  assert.deepEqual(fired, ["a@10", "c@15"]);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(1);
  assert.deepEqual(fired, ["a@10", "c@15", "b@30"]);
  assert.equal(clock.monotonicNanoseconds(), 30_000_000n);
  assert.throws(() => clock.advance(-1), /non-negative/);
});

test("RecordingUpstream: known clusters, pending calls, automatic answers", opts, async () => {
  const upstream = new RecordingUpstream(["a"]);
  assert.equal(upstream.hasCluster("a"), true);
  assert.equal(upstream.hasCluster("b"), false);
  const t = await startAbiHarness({ clusters: ["svc"] });
  t.harness.upstream.onHttpCall = (call) => call.respond({ headers: [[":status", "204"]] });
  const [c, cl] = t.put("svc");
  const [h, hl] = t.put(
    serializePairs([
      [":method", "GET"],
      [":path", "/"],
      [":authority", "svc"],
    ]),
  );
  t.inContext(t.harness.plugin.root, () =>
    assert.equal(t.call("proxy_http_call", c, cl, h, hl, 0, 0, 0, 0, 0, t.out()), Status.Ok),
  );
  assert.equal(t.harness.httpCalls.length, 1);
  assert.equal(t.harness.upstream.pendingHttpCalls.length, 0, "answered by the automatic answerer");
});

test(
  "gRPC unary convenience, shared data, queues, metrics text and foreign-function callbacks",
  opts,
  async () => {
    const t = await startAbiHarness({ vmId: "h" });
    const root = t.harness.plugin.root;
    const [c, cl] = t.put("grpc");
    const [s, sl] = t.put("svc.S");
    const [m, ml] = t.put("M");
    t.inContext(root, () =>
      assert.equal(t.call("proxy_grpc_call", c, cl, s, sl, m, ml, 0, 0, m, ml, 100, t.out()), Status.Ok),
    );
    const call = t.harness.grpcCalls[0]!;
    assert.equal(t.harness.upstream.pendingGrpcCalls.length, 1);
    assert.equal(call.respond("reply", [["k", "v"]]), true);
    assert.equal(call.finished, true);
    assert.equal(root.statusCode, 0);

    t.harness.setSharedData("counter", "41");
    assert.equal(t.harness.sharedData("counter"), "41");
    assert.equal(t.harness.enqueue("missing", "x"), false, "no such queue");
    t.harness.host.queues.register("h", "work", null);
    assert.equal(t.harness.enqueue("work", "job"), true);
    assert.equal(t.harness.queueItems("work")?.length, 1);

    t.harness.host.metrics.define(MetricType.Gauge, "inflight").value = 2n;
    assert.equal(t.harness.gauge("inflight"), 2n);
    assert.match(t.harness.prometheus(), /# TYPE inflight gauge\ninflight\{\} 2\n/);

    let seen = -1;
    t.vm.exports.proxy_on_foreign_function = (_root: number, id: number, size: number) => {
      seen = id * 1000 + size;
    };
    t.harness.callOnForeignFunction(7, "abc");
    assert.equal(seen, 7003);
  },
);

test("several root contexts in one VM keep their own configuration and ticks", opts, async () => {
  const t = await startAbiHarness({ name: "first", rootId: "one", vmId: "multi", configuration: "A" });
  const second = t.harness.startPlugin({ name: "second", rootId: "two", configuration: "BB" });
  assert.equal(second.plugin.vm, t.harness.plugin.vm);
  t.inContext(second.plugin.root, () =>
    assert.equal(t.call("proxy_set_tick_period_milliseconds", 50), Status.Ok),
  );
  assert.equal(second.tickPeriodMs, 50);
  assert.equal(t.harness.tickPeriodMs, 0);
  const [p, n] = t.put("plugin_root_id");
  const pp = t.out();
  const sp = t.out();
  t.inContext(second.plugin.root, () => assert.equal(t.call("proxy_get_property", p, n, pp, sp), Status.Ok));
  assert.equal(t.text(pp, sp), "two");
  const [k, kl] = t.put("note");
  t.inContext(second.plugin.root, () => assert.equal(t.call("proxy_set_property", k, kl, k, kl), Status.Ok));
  assert.equal(second.filterState("note"), "note");
  assert.equal(t.harness.filterState("note"), undefined);
});

test("a plugin that was shut down refuses new streams with a clear error", opts, async () => {
  const t = await startAbiHarness({ name: "gone" });
  t.harness.shutdown();
  assert.equal(t.harness.plugin.root.deleted, true);
  assert.throws(() => t.harness.http(), /plugin gone was shut down/);
});

test(
  "failDispatch: calls to an existing cluster answer INTERNAL_FAILURE and are not dispatched",
  opts,
  async () => {
    const t = await startAbiHarness({ clusters: ["svc", "grpc"] });
    const root = t.harness.plugin.root;
    const headers = serializePairs([
      [":method", "GET"],
      [":path", "/"],
      [":authority", "svc"],
    ]);
    const httpCall = (token: number) => {
      const [c, cl] = t.put("svc");
      const [h, hl] = t.put(headers);
      return t.call("proxy_http_call", c, cl, h, hl, 0, 0, 0, 0, 100, token);
    };
    const grpc = (stream: boolean, token: number) => {
      const [c, cl] = t.put("grpc");
      const [sv, svl] = t.put("pkg.S");
      const [m, ml] = t.put("M");
      if (stream) return t.call("proxy_grpc_stream", c, cl, sv, svl, m, ml, 0, 0, token);
      return t.call("proxy_grpc_call", c, cl, sv, svl, m, ml, 0, 0, 0, 0, 100, token);
    };
    t.harness.failDispatch("svc", "http");
    t.harness.failDispatch("grpc", "grpc");
    const token = t.out();
    t.inContext(root, () => {
      assert.equal(httpCall(token), Status.InternalFailure);
      assert.equal(grpc(false, token), Status.InternalFailure);
      assert.equal(grpc(true, token), Status.InternalFailure);
    });
    assert.equal(t.u32(token), 0, "no token written");
    assert.equal(t.harness.httpCalls.length + t.harness.grpcCalls.length, 0, "nothing dispatched");
    t.harness.upstream.allow("svc");
    t.inContext(root, () => assert.equal(httpCall(token), Status.Ok));
    assert.equal(t.u32(token), 2, "Envoy took token 1 for the call its client refused");
    assert.equal(t.harness.httpCalls.length, 1);
  },
);
