/** Success and error paths of shared data, queues, metrics, properties, foreign functions, logging, time, lifecycle. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { writeProtoFields } from "../src/envoy/protobuf.ts";
import { serializePairs } from "../src/pairs.ts";
import { MetricType, Status } from "../src/types.ts";
import { type AbiHarness, startAbiHarness } from "./support/abi-module.ts";

const opts = { timeout: 30_000 };

function setShared(t: AbiHarness, key: string, value: string, cas: number): number {
  const [k, kl] = t.put(key);
  const [v, vl] = t.put(value);
  return t.call("proxy_set_shared_data", k, kl, v, vl, cas);
}

function getShared(t: AbiHarness, key: string): { status: number; value?: string; cas?: number } {
  const [k, kl] = t.put(key);
  const pp = t.out();
  const sp = t.out();
  const cas = t.out();
  const status = t.call("proxy_get_shared_data", k, kl, pp, sp, cas);
  return status === Status.Ok ? { status, value: t.text(pp, sp), cas: t.u32(cas) } : { status };
}

test(
  "shared data: set/get with CAS; CAS_MISMATCH; NOT_FOUND; INVALID_MEMORY_ACCESS; keyed by vm_id",
  opts,
  async () => {
    const t = await startAbiHarness({ vmId: "vm_a" });
    assert.equal(getShared(t, "k").status, Status.NotFound);
    assert.equal(setShared(t, "k", "v1", 77), Status.Ok, "a new key ignores the CAS");
    const first = getShared(t, "k");
    assert.equal(first.value, "v1");
    assert.ok(first.cas! > 0);
    assert.equal(setShared(t, "k", "v2", first.cas! + 1), Status.CasMismatch);
    assert.equal(setShared(t, "k", "v2", first.cas!), Status.Ok);
    assert.equal(setShared(t, "k", "v3", first.cas!), Status.CasMismatch, "the CAS changed with the write");
    assert.equal(setShared(t, "k", "v4", 0), Status.Ok, "CAS 0 always writes");
    assert.equal(getShared(t, "k").value, "v4");
    const [k, kl] = t.put("k");
    assert.equal(t.call("proxy_set_shared_data", t.badPointer, 1, k, kl, 0), Status.InvalidMemoryAccess);
    assert.equal(
      t.call("proxy_get_shared_data", t.badPointer, 1, t.out(), t.out(), t.out()),
      Status.InvalidMemoryAccess,
    );
    assert.equal(
      t.call("proxy_get_shared_data", k, kl, t.out(), t.out(), t.badPointer),
      Status.InvalidMemoryAccess,
    );
    const other = await startAbiHarness({ vmId: "vm_b" });
    assert.equal(getShared(other, "k").status, Status.NotFound, "another vm_id has its own data");
  },
);

const QUEUE_CALLBACK = `
  (global $ready (export "ready") (mut i32) (i32.const 0))
  (global $ready_ctx (export "ready_ctx") (mut i32) (i32.const 0))
  (func (export "proxy_on_queue_ready") (param i32 i32) (global.set $ready_ctx (local.get 0)) (global.set $ready (local.get 1)))
`;

test(
  "shared queues: register, resolve, enqueue (notifies the registrant), dequeue, EMPTY, NOT_FOUND",
  opts,
  async () => {
    const t = await startAbiHarness({ vmId: "q", callbacks: QUEUE_CALLBACK });
    const ready = () => (t.vm.instance.exports.ready as { value: number }).value;
    const root = t.harness.plugin.root;
    const [n, nl] = t.put("jobs");
    const token = t.out();
    t.inContext(root, () => assert.equal(t.call("proxy_register_shared_queue", n, nl, token), Status.Ok));
    const again = t.out();
    t.inContext(root, () => assert.equal(t.call("proxy_register_shared_queue", n, nl, again), Status.Ok));
    assert.equal(t.u32(again), t.u32(token), "re-registering opens the same queue");
    const [vmId, vmIdLen] = t.put("q");
    const resolved = t.out();
    assert.equal(t.call("proxy_resolve_shared_queue", vmId, vmIdLen, n, nl, resolved), Status.Ok);
    assert.equal(t.u32(resolved), t.u32(token));
    const [other, otherLen] = t.put("elsewhere");
    assert.equal(t.call("proxy_resolve_shared_queue", other, otherLen, n, nl, t.out()), Status.NotFound);
    assert.equal(
      t.call("proxy_resolve_shared_queue", vmId, vmIdLen, n, nl, t.badPointer),
      Status.InvalidMemoryAccess,
    );
    const [item, itemLen] = t.put("job-1");
    assert.equal(t.call("proxy_enqueue_shared_queue", t.u32(token), item, itemLen), Status.Ok);
    assert.equal(ready(), t.u32(token), "proxy_on_queue_ready(root, token) ran");
    assert.equal((t.vm.instance.exports.ready_ctx as { value: number }).value, root.id);
    assert.equal(t.call("proxy_enqueue_shared_queue", 4242, item, itemLen), Status.NotFound);
    assert.equal(
      t.call("proxy_enqueue_shared_queue", t.u32(token), t.badPointer, 3),
      Status.InvalidMemoryAccess,
    );
    const pp = t.out();
    const sp = t.out();
    assert.equal(
      t.call("proxy_dequeue_shared_queue", t.u32(token), t.badPointer, sp),
      Status.InvalidMemoryAccess,
    );
    assert.equal(t.call("proxy_dequeue_shared_queue", t.u32(token), pp, sp), Status.Ok);
    assert.equal(t.text(pp, sp), "job-1");
    assert.equal(t.call("proxy_dequeue_shared_queue", t.u32(token), pp, sp), Status.Empty);
    assert.equal(t.call("proxy_dequeue_shared_queue", 4242, pp, sp), Status.NotFound);
    assert.equal(t.call("proxy_register_shared_queue", t.badPointer, 2, t.out()), Status.InvalidMemoryAccess);
    assert.equal(t.harness.enqueue("jobs", "from-test"), true);
    assert.equal(t.harness.queueItems("jobs")?.length, 1);
  },
);

test(
  "metrics: define, increment, record, get; NOT_FOUND, BAD_ARGUMENT, INVALID_MEMORY_ACCESS",
  opts,
  async () => {
    const t = await startAbiHarness();
    const define = (type: number, name: string) => {
      const [p, n] = t.put(name);
      const id = t.out();
      const status = t.call("proxy_define_metric", type, p, n, id);
      return { status, id: t.u32(id) };
    };
    const counter = define(MetricType.Counter, "requests_total");
    const gauge = define(MetricType.Gauge, "inflight");
    const hist = define(MetricType.Histogram, "latency_ms");
    assert.deepEqual([counter.status, gauge.status, hist.status], [Status.Ok, Status.Ok, Status.Ok]);
    assert.equal(define(MetricType.Counter, "requests_total").id, counter.id, "same name, same id");
    assert.equal(define(3, "x").status, Status.BadArgument);
    assert.equal(t.call("proxy_define_metric", 0, t.badPointer, 1, t.out()), Status.InvalidMemoryAccess);
    const [p, n] = t.put("c2");
    assert.equal(t.call("proxy_define_metric", 0, p, n, t.badPointer), Status.InvalidMemoryAccess);
    assert.equal(t.call("proxy_increment_metric", counter.id, 5n), Status.Ok);
    assert.equal(
      t.call("proxy_increment_metric", counter.id, -1n),
      Status.BadArgument,
      "counters only go up",
    );
    assert.equal(t.call("proxy_increment_metric", gauge.id, 3n), Status.Ok);
    assert.equal(t.call("proxy_increment_metric", gauge.id, -1n), Status.Ok);
    assert.equal(t.call("proxy_increment_metric", hist.id, 1n), Status.BadArgument);
    assert.equal(t.call("proxy_increment_metric", 999, 1n), Status.NotFound);
    assert.equal(t.call("proxy_record_metric", hist.id, 20n), Status.Ok);
    assert.equal(t.call("proxy_record_metric", hist.id, 30n), Status.Ok);
    assert.equal(t.call("proxy_record_metric", gauge.id, 7n), Status.Ok);
    assert.equal(t.call("proxy_record_metric", 999, 1n), Status.NotFound);
    const out = t.out();
    assert.equal(t.call("proxy_get_metric", counter.id, out), Status.Ok);
    assert.equal(t.u64(out), 5n);
    assert.equal(t.call("proxy_get_metric", gauge.id, out), Status.Ok);
    assert.equal(t.u64(out), 7n);
    assert.equal(t.call("proxy_get_metric", hist.id, out), Status.BadArgument);
    assert.equal(t.call("proxy_get_metric", 999, out), Status.NotFound);
    assert.equal(t.call("proxy_get_metric", counter.id, t.badPointer), Status.InvalidMemoryAccess);
    assert.equal(t.harness.counter("requests_total"), 5n);
    assert.deepEqual(t.harness.histogram("latency_ms"), [20n, 30n]);
    assert.equal(t.harness.metric("requests_total")?.name, "wasmcustom.requests_total");
  },
);

function getProperty(t: AbiHarness, path: string[]): { status: number; value?: Uint8Array } {
  const [p, n] = t.put(path.join("\0"));
  const pp = t.out();
  const sp = t.out();
  const status = t.call("proxy_get_property", p, n, pp, sp);
  return status === Status.Ok ? { status, value: t.returned(pp, sp) } : { status };
}
const int64 = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset, 8).getBigInt64(0, true);
const text = (v: Uint8Array | undefined) => new TextDecoder().decode(v);

test(
  "proxy_get_property / proxy_set_property: Envoy encodings, wasm. prefix, NOT_FOUND, INVALID_MEMORY_ACCESS",
  opts,
  async () => {
    const t = await startAbiHarness({
      name: "props",
      rootId: "r1",
      vmId: "v1",
      nodeProperties: { "node.id": "proxy-1", "node.metadata": { NAME: "pod-a", LABELS: { app: "web" } } },
    });
    const http = t.harness.http({
      "source.address": "10.1.2.3:5555",
      "source.port": 5555,
      "connection.mtls": true,
    });
    http.requestHeaders([
      [":path", "/api?x=1"],
      [":method", "GET"],
      [":authority", "example.com"],
      ["x-request-id", "abc"],
      ["accept", "a"],
      ["accept", "b"],
    ]);
    t.inContext(http.stream, () => {
      assert.equal(text(getProperty(t, ["plugin_name"]).value), "props");
      assert.equal(text(getProperty(t, ["plugin_root_id"]).value), "r1");
      assert.equal(text(getProperty(t, ["plugin_vm_id"]).value), "v1");
      assert.equal(text(getProperty(t, ["source", "address"]).value), "10.1.2.3:5555");
      assert.equal(int64(getProperty(t, ["source", "port"]).value!), 5555n);
      assert.deepEqual([...getProperty(t, ["connection", "mtls"]).value!], [1]);
      assert.equal(text(getProperty(t, ["request", "path"]).value), "/api?x=1");
      assert.equal(text(getProperty(t, ["request", "url_path"]).value), "/api");
      assert.equal(text(getProperty(t, ["request", "query"]).value), "x=1");
      assert.equal(text(getProperty(t, ["request", "host"]).value), "example.com");
      assert.equal(text(getProperty(t, ["request", "id"]).value), "abc");
      assert.equal(text(getProperty(t, ["request", "headers", "accept"]).value), "a,b");
      assert.equal(
        int64(getProperty(t, ["request", "time"]).value!),
        BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n,
      );
      assert.equal(text(getProperty(t, ["node", "id"]).value), "proxy-1");
      assert.equal(text(getProperty(t, ["node", "metadata", "NAME"]).value), "pod-a");
      assert.equal(text(getProperty(t, ["node", "metadata", "LABELS", "app"]).value), "web");
      assert.equal(getProperty(t, ["nope"]).status, Status.NotFound);
      assert.equal(getProperty(t, ["response", "code"]).status, Status.NotFound, "no response yet");
      const [p, n] = t.put("my_key");
      const [v, vl] = t.put("my value");
      assert.equal(t.call("proxy_set_property", p, n, v, vl), Status.Ok);
      assert.equal(text(getProperty(t, ["my_key"]).value), "my value");
      assert.equal(t.call("proxy_set_property", t.badPointer, 1, v, vl), Status.InvalidMemoryAccess);
      assert.equal(t.call("proxy_set_property", p, n, t.badPointer, 1), Status.InvalidMemoryAccess);
      assert.equal(
        t.call("proxy_get_property", t.badPointer, 1, t.out(), t.out()),
        Status.InvalidMemoryAccess,
      );
      const [pp, pn] = t.put("plugin_name");
      assert.equal(t.call("proxy_get_property", pp, pn, t.badPointer, t.out()), Status.InvalidMemoryAccess);
    });
    assert.equal(http.stream.filterState.has("wasm.my_key"), true, "stored under wasm. + path");
    http.responseHeaders([[":status", "204"]]);
    t.inContext(http.stream, () => assert.equal(int64(getProperty(t, ["response", "code"]).value!), 204n));
  },
);

function callForeign(t: AbiHarness, name: string, args: Uint8Array): { status: number; result?: Uint8Array } {
  const [n, nl] = t.put(name);
  const [a, al] = t.put(args.length ? args : new Uint8Array(1));
  const pp = t.out();
  const sp = t.out();
  const status = t.call("proxy_call_foreign_function", n, nl, a, args.length ? al : 0, pp, sp);
  return { status, result: status === Status.Ok ? t.returned(pp, sp) : undefined };
}

test(
  "proxy_call_foreign_function: registered, Envoy built-ins, NOT_FOUND, BAD_ARGUMENT, INVALID_MEMORY_ACCESS",
  opts,
  async () => {
    const t = await startAbiHarness();
    t.harness.registerForeignFunction("reverse", ({ args }) => ({
      status: Status.Ok,
      result: args.slice().reverse(),
    }));
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    t.inContext(http.stream, () => {
      const r = callForeign(t, "reverse", new Uint8Array([1, 2, 3]));
      assert.equal(r.status, Status.Ok);
      assert.deepEqual([...r.result!], [3, 2, 1]);
      assert.equal(callForeign(t, "no_such_function", new Uint8Array()).status, Status.NotFound);
      assert.equal(callForeign(t, "clear_route_cache", new Uint8Array()).status, Status.Ok);
      const state = writeProtoFields([
        [1, "envoy.network.upstream_server_name"],
        [2, "api.example.com"],
        [3, 1],
      ]);
      assert.equal(callForeign(t, "set_envoy_filter_state", state).status, Status.Ok);
      const unknownKey = writeProtoFields([
        [1, "my.key"],
        [2, "v"],
      ]);
      assert.equal(callForeign(t, "set_envoy_filter_state", unknownKey).status, Status.BadArgument);
      assert.equal(
        callForeign(t, "set_envoy_filter_state", new Uint8Array([0x0a, 0x09, 0x41])).status,
        Status.BadArgument,
      );
      const [n, nl] = t.put("reverse");
      assert.equal(
        t.call("proxy_call_foreign_function", t.badPointer, 3, n, 0, t.out(), t.out()),
        Status.InvalidMemoryAccess,
      );
      assert.equal(
        t.call("proxy_call_foreign_function", n, nl, t.badPointer, 2, t.out(), t.out()),
        Status.InvalidMemoryAccess,
      );
      assert.equal(
        t.call("proxy_call_foreign_function", n, nl, n, nl, t.badPointer, t.out()),
        Status.InvalidMemoryAccess,
      );
      const declare = writeProtoFields([
        [1, "locked"],
        [2, true],
      ]);
      assert.equal(callForeign(t, "declare_property", declare).status, Status.Ok);
      const [p, pl] = t.put("locked");
      assert.equal(t.call("proxy_set_property", p, pl, n, nl), Status.Ok);
      assert.equal(
        t.call("proxy_set_property", p, pl, n, nl),
        Status.BadArgument,
        "read-only after the first write",
      );
    });
    assert.equal(http.events.routeCacheClears, 1);
    assert.equal(http.filterState("envoy.network.upstream_server_name"), "api.example.com");
  },
);

test(
  "proxy_log / proxy_get_log_level: levels, filtering, BAD_ARGUMENT, INVALID_MEMORY_ACCESS",
  opts,
  async () => {
    const t = await startAbiHarness({ name: "logger", logLevel: 2 });
    const root = t.harness.plugin.root;
    const [m, ml] = t.put("héllo");
    t.inContext(root, () => {
      assert.equal(t.call("proxy_log", 2, m, ml), Status.Ok);
      assert.equal(t.call("proxy_log", 1, m, ml), Status.Ok, "below the level: accepted, dropped");
      assert.equal(t.call("proxy_log", 5, m, ml), Status.Ok);
      assert.equal(t.call("proxy_log", 6, m, ml), Status.BadArgument);
      assert.equal(t.call("proxy_log", 2, t.badPointer, 1), Status.InvalidMemoryAccess);
      const level = t.out();
      assert.equal(t.call("proxy_get_log_level", level), Status.Ok);
      assert.equal(t.u32(level), 2);
      assert.equal(t.call("proxy_get_log_level", t.badPointer), Status.InvalidMemoryAccess);
    });
    assert.deepEqual(t.harness.logs("info"), ["héllo"]);
    assert.deepEqual(t.harness.logs("debug"), []);
    assert.deepEqual(t.harness.logs("critical"), ["héllo"]);
  },
);

test(
  "time and ticks: current time, tick period; INVALID_MEMORY_ACCESS; BAD_ARGUMENT outside plugins",
  opts,
  async () => {
    const t = await startAbiHarness();
    const out = t.out();
    t.inContext(t.harness.plugin.root, () => {
      assert.equal(t.call("proxy_get_current_time_nanoseconds", out), Status.Ok);
      assert.equal(t.call("proxy_get_current_time_nanoseconds", t.badPointer), Status.InvalidMemoryAccess);
      assert.equal(t.call("proxy_set_tick_period_milliseconds", 250), Status.Ok);
    });
    assert.equal(t.u64(out), BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n);
    assert.equal(t.harness.tickPeriodMs, 250);
    // Outside any callback the VM context has no plugin to tick.
    assert.equal(t.call("proxy_set_tick_period_milliseconds", 10), Status.BadArgument);
  },
);

test("proxy_done and proxy_set_effective_context", opts, async () => {
  const t = await startAbiHarness();
  const a = t.harness.http();
  a.requestHeaders([["k", "from-a"]]);
  const b = t.harness.http();
  b.requestHeaders([["k", "from-b"]]);
  const [k, kl] = t.put("k");
  t.inContext(a.stream, () => {
    assert.equal(t.call("proxy_set_effective_context", b.id), Status.Ok);
    const pp = t.out();
    const sp = t.out();
    assert.equal(t.call("proxy_get_header_map_value", 0, k, kl, pp, sp), Status.Ok);
    assert.equal(t.text(pp, sp), "from-b", "hostcalls act on the effective context");
    assert.equal(t.call("proxy_set_effective_context", 9999), Status.BadArgument);
    assert.equal(t.call("proxy_done"), Status.NotFound, "b is not waiting for proxy_done");
  });
  b.complete();
  t.inContext(a.stream, () =>
    assert.equal(t.call("proxy_set_effective_context", b.id), Status.BadArgument, "deleted"),
  );
});

test("proxy_done finishes a root context whose shutdown proxy_on_done returned false", opts, async () => {
  const t = await startAbiHarness();
  const root = t.harness.plugin.root;
  root.awaitingDone = true;
  t.inContext(root, () => assert.equal(t.call("proxy_done"), Status.Ok));
  assert.equal(root.deleted, true);
  t.inContext(root, () => assert.equal(t.call("proxy_done"), Status.NotFound));
});

test("errors thrown by embedder code are logged and never reach the plugin or the caller", opts, async () => {
  const t = await startAbiHarness();
  t.harness.registerForeignFunction("broken", () => {
    throw new Error("boom");
  });
  t.harness.upstream.onHttpCall = () => {
    throw new Error("upstream down");
  };
  t.inContext(t.harness.plugin.root, () => {
    const [n, nl] = t.put("broken");
    assert.equal(
      t.call("proxy_call_foreign_function", n, nl, n, 0, t.out(), t.out()),
      Status.InternalFailure,
    );
    const [c, cl] = t.put("c");
    const [h, hl] = t.put(
      serializePairs([
        [":method", "GET"],
        [":path", "/"],
        [":authority", "a"],
      ]),
    );
    assert.equal(t.call("proxy_http_call", c, cl, h, hl, 0, 0, 0, 0, 100, t.out()), Status.Ok);
  });
  t.harness.tick();
  const critical = t.harness.testHost.logEntries.filter((e) => e.level === 5).map((e) => e.message);
  assert.ok(critical.includes("embedder callback failed: boom"));
  assert.ok(critical.includes("embedder callback failed: upstream down"));
  assert.equal(t.vm.failed, false);
});
