/** Success and error paths of shared data, queues, metrics, properties, foreign functions, logging, time, lifecycle. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { writeProtoFields } from "../src/envoy/protobuf.ts";
import { serializePairs } from "../src/pairs.ts";
import { MetricType, Status } from "../src/types.ts";
import { type AbiHarness, startAbiHarness } from "./support/abi-module.ts";
import { shared } from "./support/shared-setup.ts";

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

describe("shared data", opts, () => {
  const s = shared(async () => ({ t: await startAbiHarness({ vmId: "vm_a" }) }));
  let firstCas = 0;

  test("NOT_FOUND for a key never set", () => assert.equal(getShared(s.t, "k").status, Status.NotFound));

  test("a new key ignores the CAS", () => assert.equal(setShared(s.t, "k", "v1", 77), Status.Ok));

  test("get: the value and a CAS", () => {
    const first = getShared(s.t, "k");
    assert.equal(first.value, "v1");
    assert.ok(first.cas! > 0);
    firstCas = first.cas!;
  });

  test("CAS_MISMATCH for a wrong CAS", () =>
    assert.equal(setShared(s.t, "k", "v2", firstCas + 1), Status.CasMismatch));

  test("OK with the current CAS", () => assert.equal(setShared(s.t, "k", "v2", firstCas), Status.Ok));

  test("CAS_MISMATCH once the CAS changed with a write", () =>
    assert.equal(setShared(s.t, "k", "v3", firstCas), Status.CasMismatch));

  test("CAS 0 always writes", () => {
    assert.equal(setShared(s.t, "k", "v4", 0), Status.Ok);
    assert.equal(getShared(s.t, "k").value, "v4");
  });

  test("set: INVALID_MEMORY_ACCESS for a key out of bounds", () => {
    const [k, kl] = s.t.put("k");
    assert.equal(s.t.call("proxy_set_shared_data", s.t.badPointer, 1, k, kl, 0), Status.InvalidMemoryAccess);
  });

  test("get: INVALID_MEMORY_ACCESS for a key out of bounds", () =>
    assert.equal(
      s.t.call("proxy_get_shared_data", s.t.badPointer, 1, s.t.out(), s.t.out(), s.t.out()),
      Status.InvalidMemoryAccess,
    ));

  test("get: INVALID_MEMORY_ACCESS for a CAS pointer out of bounds", () => {
    const [k, kl] = s.t.put("k");
    assert.equal(
      s.t.call("proxy_get_shared_data", k, kl, s.t.out(), s.t.out(), s.t.badPointer),
      Status.InvalidMemoryAccess,
    );
  });

  test("keyed by vm_id: another vm_id has its own data", async () => {
    const other = await startAbiHarness({ vmId: "vm_b" });
    assert.equal(getShared(other, "k").status, Status.NotFound);
  });
});

const QUEUE_CALLBACK = `
  (global $ready (export "ready") (mut i32) (i32.const 0))
  (global $ready_ctx (export "ready_ctx") (mut i32) (i32.const 0))
  (func (export "proxy_on_queue_ready") (param i32 i32) (global.set $ready_ctx (local.get 0)) (global.set $ready (local.get 1)))
`;

describe("shared queues", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness({ vmId: "q", callbacks: QUEUE_CALLBACK });
    const root = t.harness.plugin.root;
    const [n, nl] = t.put("jobs");
    const [vmId, vmIdLen] = t.put("q");
    const [item, itemLen] = t.put("job-1");
    return { t, root, n, nl, vmId, vmIdLen, item, itemLen, token: t.out() };
  });
  const token = () => s.t.u32(s.token);
  const global = (name: string) => (s.t.vm.instance.exports[name] as { value: number }).value;

  describe("proxy_register_shared_queue", () => {
    test("OK with a token", () =>
      s.t.inContext(s.root, () =>
        assert.equal(s.t.call("proxy_register_shared_queue", s.n, s.nl, s.token), Status.Ok),
      ));

    test("re-registering opens the same queue", () => {
      const again = s.t.out();
      s.t.inContext(s.root, () =>
        assert.equal(s.t.call("proxy_register_shared_queue", s.n, s.nl, again), Status.Ok),
      );
      assert.equal(s.t.u32(again), token());
    });

    test("INVALID_MEMORY_ACCESS for a name out of bounds", () =>
      assert.equal(
        s.t.call("proxy_register_shared_queue", s.t.badPointer, 2, s.t.out()),
        Status.InvalidMemoryAccess,
      ));
  });

  describe("proxy_resolve_shared_queue", () => {
    test("finds the queue by vm_id and name", () => {
      const resolved = s.t.out();
      assert.equal(s.t.call("proxy_resolve_shared_queue", s.vmId, s.vmIdLen, s.n, s.nl, resolved), Status.Ok);
      assert.equal(s.t.u32(resolved), token());
    });

    test("an empty vm_id means the caller's own VM", () => {
      const resolved = s.t.out();
      assert.equal(s.t.call("proxy_resolve_shared_queue", 0, 0, s.n, s.nl, resolved), Status.Ok);
      assert.equal(s.t.u32(resolved), token());
    });

    test("NOT_FOUND under another vm_id", () => {
      const [other, otherLen] = s.t.put("elsewhere");
      assert.equal(
        s.t.call("proxy_resolve_shared_queue", other, otherLen, s.n, s.nl, s.t.out()),
        Status.NotFound,
      );
    });

    test("INVALID_MEMORY_ACCESS for a token pointer out of bounds", () =>
      assert.equal(
        s.t.call("proxy_resolve_shared_queue", s.vmId, s.vmIdLen, s.n, s.nl, s.t.badPointer),
        Status.InvalidMemoryAccess,
      ));
  });

  describe("proxy_enqueue_shared_queue", () => {
    test("OK, and proxy_on_queue_ready(root, token) runs", () => {
      assert.equal(s.t.call("proxy_enqueue_shared_queue", token(), s.item, s.itemLen), Status.Ok);
      assert.equal(global("ready"), token());
      assert.equal(global("ready_ctx"), s.root.id);
    });

    test("NOT_FOUND for an unknown token", () =>
      assert.equal(s.t.call("proxy_enqueue_shared_queue", 4242, s.item, s.itemLen), Status.NotFound));

    test("INVALID_MEMORY_ACCESS for data out of bounds", () =>
      assert.equal(
        s.t.call("proxy_enqueue_shared_queue", token(), s.t.badPointer, 3),
        Status.InvalidMemoryAccess,
      ));
  });

  describe("proxy_dequeue_shared_queue", () => {
    test("INVALID_MEMORY_ACCESS for an out-pointer out of bounds", () =>
      assert.equal(
        s.t.call("proxy_dequeue_shared_queue", token(), s.t.badPointer, s.t.out()),
        Status.InvalidMemoryAccess,
      ));

    test("the item enqueued, then EMPTY", () => {
      const pp = s.t.out();
      const sp = s.t.out();
      assert.equal(s.t.call("proxy_dequeue_shared_queue", token(), pp, sp), Status.Ok);
      assert.equal(s.t.text(pp, sp), "job-1");
      assert.equal(s.t.call("proxy_dequeue_shared_queue", token(), pp, sp), Status.Empty);
    });

    test("NOT_FOUND for an unknown token", () =>
      assert.equal(s.t.call("proxy_dequeue_shared_queue", 4242, s.t.out(), s.t.out()), Status.NotFound));
  });

  test("the harness enqueues by name", () => {
    assert.equal(s.t.harness.enqueue("jobs", "from-test"), true);
    assert.equal(s.t.harness.queueItems("jobs")?.length, 1);
  });
});

describe("metrics", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness();
    const define = (type: number, name: string) => {
      const [p, n] = t.put(name);
      const id = t.out();
      const status = t.call("proxy_define_metric", type, p, n, id);
      return { status, id: t.u32(id) };
    };
    return { t, define };
  });
  const ids = { counter: 0, gauge: 0, hist: 0 };
  const call = (name: string, ...args: Array<number | bigint>) => s.t.call(name, ...args);

  describe("proxy_define_metric", () => {
    test("OK for a counter, a gauge and a histogram", () => {
      const counter = s.define(MetricType.Counter, "requests_total");
      const gauge = s.define(MetricType.Gauge, "inflight");
      const hist = s.define(MetricType.Histogram, "latency_ms");
      assert.deepEqual([counter.status, gauge.status, hist.status], [Status.Ok, Status.Ok, Status.Ok]);
      Object.assign(ids, { counter: counter.id, gauge: gauge.id, hist: hist.id });
    });

    test("the same name gets the same id", () =>
      assert.equal(s.define(MetricType.Counter, "requests_total").id, ids.counter));

    test("BAD_ARGUMENT for an unknown metric type", () =>
      assert.equal(s.define(3, "x").status, Status.BadArgument));

    test("INVALID_MEMORY_ACCESS for a name out of bounds", () =>
      assert.equal(call("proxy_define_metric", 0, s.t.badPointer, 1, s.t.out()), Status.InvalidMemoryAccess));

    test("INVALID_MEMORY_ACCESS for an id pointer out of bounds", () => {
      const [p, n] = s.t.put("c2");
      assert.equal(call("proxy_define_metric", 0, p, n, s.t.badPointer), Status.InvalidMemoryAccess);
    });
  });

  describe("proxy_increment_metric", () => {
    test("a counter goes up", () => assert.equal(call("proxy_increment_metric", ids.counter, 5n), Status.Ok));

    test("BAD_ARGUMENT for a negative counter increment (counters only go up)", () =>
      assert.equal(call("proxy_increment_metric", ids.counter, -1n), Status.BadArgument));

    test("a gauge goes up and down", () => {
      assert.equal(call("proxy_increment_metric", ids.gauge, 3n), Status.Ok);
      assert.equal(call("proxy_increment_metric", ids.gauge, -1n), Status.Ok);
    });

    test("BAD_ARGUMENT for a histogram", () =>
      assert.equal(call("proxy_increment_metric", ids.hist, 1n), Status.BadArgument));

    test("NOT_FOUND for an unknown id", () =>
      assert.equal(call("proxy_increment_metric", 999, 1n), Status.NotFound));
  });

  describe("proxy_record_metric", () => {
    test("a histogram records values", () => {
      assert.equal(call("proxy_record_metric", ids.hist, 20n), Status.Ok);
      assert.equal(call("proxy_record_metric", ids.hist, 30n), Status.Ok);
    });

    test("a gauge is set", () => assert.equal(call("proxy_record_metric", ids.gauge, 7n), Status.Ok));

    test("NOT_FOUND for an unknown id", () =>
      assert.equal(call("proxy_record_metric", 999, 1n), Status.NotFound));
  });

  describe("proxy_get_metric", () => {
    test("a counter's and a gauge's value", () => {
      const out = s.t.out();
      assert.equal(call("proxy_get_metric", ids.counter, out), Status.Ok);
      assert.equal(s.t.u64(out), 5n);
      assert.equal(call("proxy_get_metric", ids.gauge, out), Status.Ok);
      assert.equal(s.t.u64(out), 7n);
    });

    test("BAD_ARGUMENT for a histogram", () =>
      assert.equal(call("proxy_get_metric", ids.hist, s.t.out()), Status.BadArgument));

    test("NOT_FOUND for an unknown id", () =>
      assert.equal(call("proxy_get_metric", 999, s.t.out()), Status.NotFound));

    test("INVALID_MEMORY_ACCESS for an out-pointer out of bounds", () =>
      assert.equal(call("proxy_get_metric", ids.counter, s.t.badPointer), Status.InvalidMemoryAccess));
  });

  test("the host's stats: wasmcustom. names, counter and histogram values", () => {
    assert.equal(s.t.harness.counter("requests_total"), 5n);
    assert.deepEqual(s.t.harness.histogram("latency_ms"), [20n, 30n]);
    assert.equal(s.t.harness.metric("requests_total")?.name, "wasmcustom.requests_total");
  });
});

function getProperty(t: AbiHarness, path: string[]): { status: number; value?: Uint8Array } {
  const [p, n] = t.put(path.join("\0"));
  const pp = t.out();
  const sp = t.out();
  const status = t.call("proxy_get_property", p, n, pp, sp);
  return status === Status.Ok ? { status, value: t.returned(pp, sp) } : { status };
}
const int64 = (v: Uint8Array) => new DataView(v.buffer, v.byteOffset, 8).getBigInt64(0, true);
const text = (v: Uint8Array | undefined) => new TextDecoder().decode(v);

describe("proxy_get_property / proxy_set_property", opts, () => {
  const s = shared(async () => {
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
    return { t, http, run: <T>(fn: () => T) => t.inContext(http.stream, fn) };
  });
  const get = (path: string[]) => getProperty(s.t, path);

  test("plugin attributes", () =>
    s.run(() => {
      assert.equal(text(get(["plugin_name"]).value), "props");
      assert.equal(text(get(["plugin_root_id"]).value), "r1");
      assert.equal(text(get(["plugin_vm_id"]).value), "v1");
    }));

  test("stream attributes the embedder gave, in Envoy's encodings", () =>
    s.run(() => {
      assert.equal(text(get(["source", "address"]).value), "10.1.2.3:5555");
      assert.equal(int64(get(["source", "port"]).value!), 5555n);
      assert.deepEqual([...get(["connection", "mtls"]).value!], [1]);
    }));

  test("request attributes from the request headers", () =>
    s.run(() => {
      assert.equal(text(get(["request", "path"]).value), "/api?x=1");
      assert.equal(text(get(["request", "url_path"]).value), "/api");
      assert.equal(text(get(["request", "query"]).value), "x=1");
      assert.equal(text(get(["request", "host"]).value), "example.com");
      assert.equal(text(get(["request", "id"]).value), "abc");
    }));

  test("request.headers[name]: every value joined with a comma", () =>
    s.run(() => assert.equal(text(get(["request", "headers", "accept"]).value), "a,b")));

  test("request.time: the stream's start as int64 nanoseconds", () =>
    s.run(() =>
      assert.equal(int64(get(["request", "time"]).value!), BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n),
    ));

  test("node attributes, nested", () =>
    s.run(() => {
      assert.equal(text(get(["node", "id"]).value), "proxy-1");
      assert.equal(text(get(["node", "metadata", "NAME"]).value), "pod-a");
      assert.equal(text(get(["node", "metadata", "LABELS", "app"]).value), "web");
    }));

  test("NOT_FOUND for an unknown path", () =>
    s.run(() => assert.equal(get(["nope"]).status, Status.NotFound)));

  test("NOT_FOUND for response.code before the response", () =>
    s.run(() => assert.equal(get(["response", "code"]).status, Status.NotFound)));

  test("set, then get, a plugin's own property (stored under wasm. + path)", () => {
    s.run(() => {
      const [p, n] = s.t.put("my_key");
      const [v, vl] = s.t.put("my value");
      assert.equal(s.t.call("proxy_set_property", p, n, v, vl), Status.Ok);
      assert.equal(text(get(["my_key"]).value), "my value");
    });
    assert.equal(s.http.stream.filterState.has("wasm.my_key"), true);
  });

  test("set: INVALID_MEMORY_ACCESS for a path out of bounds", () =>
    s.run(() => {
      const [v, vl] = s.t.put("my value");
      assert.equal(s.t.call("proxy_set_property", s.t.badPointer, 1, v, vl), Status.InvalidMemoryAccess);
    }));

  test("set: INVALID_MEMORY_ACCESS for a value out of bounds", () =>
    s.run(() => {
      const [p, n] = s.t.put("my_key");
      assert.equal(s.t.call("proxy_set_property", p, n, s.t.badPointer, 1), Status.InvalidMemoryAccess);
    }));

  test("get: INVALID_MEMORY_ACCESS for a path out of bounds", () =>
    s.run(() =>
      assert.equal(
        s.t.call("proxy_get_property", s.t.badPointer, 1, s.t.out(), s.t.out()),
        Status.InvalidMemoryAccess,
      ),
    ));

  test("get: INVALID_MEMORY_ACCESS for an out-pointer out of bounds", () =>
    s.run(() => {
      const [pp, pn] = s.t.put("plugin_name");
      assert.equal(
        s.t.call("proxy_get_property", pp, pn, s.t.badPointer, s.t.out()),
        Status.InvalidMemoryAccess,
      );
    }));

  test("response.code once the response arrived", () => {
    s.http.responseHeaders([[":status", "204"]]);
    s.run(() => assert.equal(int64(get(["response", "code"]).value!), 204n));
  });
});

function callForeign(t: AbiHarness, name: string, args: Uint8Array): { status: number; result?: Uint8Array } {
  const [n, nl] = t.put(name);
  const [a, al] = t.put(args.length ? args : new Uint8Array(1));
  const pp = t.out();
  const sp = t.out();
  const status = t.call("proxy_call_foreign_function", n, nl, a, args.length ? al : 0, pp, sp);
  return { status, result: status === Status.Ok ? t.returned(pp, sp) : undefined };
}

describe("proxy_call_foreign_function", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness();
    t.harness.registerForeignFunction("reverse", ({ args }) => ({
      status: Status.Ok,
      result: args.slice().reverse(),
    }));
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    return { t, http, run: <T>(fn: () => T) => t.inContext(http.stream, fn) };
  });
  const call = (name: string, args: Uint8Array) => callForeign(s.t, name, args);

  test("a registered function: its status and result", () =>
    s.run(() => {
      const r = call("reverse", new Uint8Array([1, 2, 3]));
      assert.equal(r.status, Status.Ok);
      assert.deepEqual([...r.result!], [3, 2, 1]);
    }));

  test("NOT_FOUND for an unknown name", () =>
    s.run(() => assert.equal(call("no_such_function", new Uint8Array()).status, Status.NotFound)));

  test("clear_route_cache: OK, and the embedder hears of it", () => {
    s.run(() => assert.equal(call("clear_route_cache", new Uint8Array()).status, Status.Ok));
    assert.equal(s.http.events.routeCacheClears, 1);
  });

  test("clear_route_cache outside an HTTP stream: OK, nothing to clear", () => {
    s.t.inContext(s.t.harness.plugin.root, () =>
      assert.equal(call("clear_route_cache", new Uint8Array()).status, Status.Ok),
    );
    assert.equal(s.http.events.routeCacheClears, 1);
  });

  describe("set_envoy_filter_state", () => {
    test("OK for a key Envoy knows: the stream's filter state has it", () => {
      const state = writeProtoFields([
        [1, "envoy.network.upstream_server_name"],
        [2, "api.example.com"],
        [3, 1],
      ]);
      s.run(() => assert.equal(call("set_envoy_filter_state", state).status, Status.Ok));
      assert.equal(s.http.filterState("envoy.network.upstream_server_name"), "api.example.com");
    });

    test("BAD_ARGUMENT for a key Envoy has no object factory for", () => {
      const unknownKey = writeProtoFields([
        [1, "my.key"],
        [2, "v"],
      ]);
      s.run(() => assert.equal(call("set_envoy_filter_state", unknownKey).status, Status.BadArgument));
    });

    test("BAD_ARGUMENT for malformed arguments", () =>
      s.run(() =>
        assert.equal(
          call("set_envoy_filter_state", new Uint8Array([0x0a, 0x09, 0x41])).status,
          Status.BadArgument,
        ),
      ));
  });

  test("INVALID_MEMORY_ACCESS for a name out of bounds", () =>
    s.run(() => {
      const [n] = s.t.put("reverse");
      assert.equal(
        s.t.call("proxy_call_foreign_function", s.t.badPointer, 3, n, 0, s.t.out(), s.t.out()),
        Status.InvalidMemoryAccess,
      );
    }));

  test("INVALID_MEMORY_ACCESS for arguments out of bounds", () =>
    s.run(() => {
      const [n, nl] = s.t.put("reverse");
      assert.equal(
        s.t.call("proxy_call_foreign_function", n, nl, s.t.badPointer, 2, s.t.out(), s.t.out()),
        Status.InvalidMemoryAccess,
      );
    }));

  test("INVALID_MEMORY_ACCESS for a result pointer out of bounds", () =>
    s.run(() => {
      const [n, nl] = s.t.put("reverse");
      assert.equal(
        s.t.call("proxy_call_foreign_function", n, nl, n, nl, s.t.badPointer, s.t.out()),
        Status.InvalidMemoryAccess,
      );
    }));

  test("declare_property: a read-only property takes one write, then set_property is BAD_ARGUMENT", () =>
    s.run(() => {
      const declare = writeProtoFields([
        [1, "locked"],
        [2, true],
      ]);
      assert.equal(call("declare_property", declare).status, Status.Ok);
      const [p, pl] = s.t.put("locked");
      const [v, vl] = s.t.put("reverse");
      assert.equal(s.t.call("proxy_set_property", p, pl, v, vl), Status.Ok);
      assert.equal(s.t.call("proxy_set_property", p, pl, v, vl), Status.BadArgument);
    }));
});

describe("proxy_log / proxy_get_log_level", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness({ name: "logger", logLevel: 2 });
    const root = t.harness.plugin.root;
    const [m, ml] = t.put("héllo");
    return { t, m, ml, run: <T>(fn: () => T) => t.inContext(root, fn) };
  });
  const log = (level: number) => s.t.call("proxy_log", level, s.m, s.ml);

  test("at the plugin's level: OK, logged", () => {
    s.run(() => assert.equal(log(2), Status.Ok));
    assert.deepEqual(s.t.harness.logs("info"), ["héllo"]);
  });

  test("below the plugin's level: OK, dropped", () => {
    s.run(() => assert.equal(log(1), Status.Ok));
    assert.deepEqual(s.t.harness.logs("debug"), []);
  });

  test("critical: OK, logged", () => {
    s.run(() => assert.equal(log(5), Status.Ok));
    assert.deepEqual(s.t.harness.logs("critical"), ["héllo"]);
  });

  test("BAD_ARGUMENT for an unknown level", () => s.run(() => assert.equal(log(6), Status.BadArgument)));

  test("INVALID_MEMORY_ACCESS for a message out of bounds", () =>
    s.run(() => assert.equal(s.t.call("proxy_log", 2, s.t.badPointer, 1), Status.InvalidMemoryAccess)));

  test("proxy_get_log_level: the plugin's level", () =>
    s.run(() => {
      const level = s.t.out();
      assert.equal(s.t.call("proxy_get_log_level", level), Status.Ok);
      assert.equal(s.t.u32(level), 2);
    }));

  test("proxy_get_log_level: INVALID_MEMORY_ACCESS for an out-pointer out of bounds", () =>
    s.run(() => assert.equal(s.t.call("proxy_get_log_level", s.t.badPointer), Status.InvalidMemoryAccess)));

  test("nothing else was logged", () => {
    assert.deepEqual(s.t.harness.logs("info"), ["héllo"]);
    assert.deepEqual(s.t.harness.logs("debug"), []);
    assert.deepEqual(s.t.harness.logs("critical"), ["héllo"]);
  });
});

describe("time and ticks", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness();
    return { t, run: <T>(fn: () => T) => t.inContext(t.harness.plugin.root, fn) };
  });

  test("proxy_get_current_time_nanoseconds: the host clock's wall time", () => {
    const out = s.t.out();
    s.run(() => assert.equal(s.t.call("proxy_get_current_time_nanoseconds", out), Status.Ok));
    assert.equal(s.t.u64(out), BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n);
  });

  test("proxy_get_current_time_nanoseconds: INVALID_MEMORY_ACCESS for an out-pointer out of bounds", () =>
    s.run(() =>
      assert.equal(
        s.t.call("proxy_get_current_time_nanoseconds", s.t.badPointer),
        Status.InvalidMemoryAccess,
      ),
    ));

  test("proxy_set_tick_period_milliseconds: OK; the plugin ticks at that period", () => {
    s.run(() => assert.equal(s.t.call("proxy_set_tick_period_milliseconds", 250), Status.Ok));
    assert.equal(s.t.harness.tickPeriodMs, 250);
  });

  test("proxy_set_tick_period_milliseconds: BAD_ARGUMENT outside plugins (the VM context has none to tick)", () =>
    assert.equal(s.t.call("proxy_set_tick_period_milliseconds", 10), Status.BadArgument));
});

describe("proxy_done and proxy_set_effective_context", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness();
    const a = t.harness.http();
    a.requestHeaders([["k", "from-a"]]);
    const b = t.harness.http();
    b.requestHeaders([["k", "from-b"]]);
    return { t, a, b, inA: <T>(fn: () => T) => t.inContext(a.stream, fn) };
  });

  test("hostcalls act on the effective context", () =>
    s.inA(() => {
      assert.equal(s.t.call("proxy_set_effective_context", s.b.id), Status.Ok);
      const [k, kl] = s.t.put("k");
      const pp = s.t.out();
      const sp = s.t.out();
      assert.equal(s.t.call("proxy_get_header_map_value", 0, k, kl, pp, sp), Status.Ok);
      assert.equal(s.t.text(pp, sp), "from-b");
    }));

  test("proxy_set_effective_context: BAD_ARGUMENT for an unknown context", () =>
    s.inA(() => assert.equal(s.t.call("proxy_set_effective_context", 9999), Status.BadArgument)));

  test("proxy_done: NOT_FOUND on a stream (not waiting for proxy_done)", () =>
    s.inA(() => {
      assert.equal(s.t.call("proxy_set_effective_context", s.b.id), Status.Ok);
      assert.equal(s.t.call("proxy_done"), Status.NotFound);
    }));

  test("proxy_set_effective_context: BAD_ARGUMENT for a deleted context", () => {
    s.b.complete();
    s.inA(() => assert.equal(s.t.call("proxy_set_effective_context", s.b.id), Status.BadArgument));
  });
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
