/** Envoy-specific behaviour: Prometheus text, property encodings, foreign-function argument decoding. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatG32, prometheusName, renderPrometheus, StatsTagProducer } from "../src/envoy/prometheus.ts";
import { Double, Duration, encodeProperty, lookupProperty, splitPath } from "../src/envoy/properties.ts";
import { readProtoFields, writeProtoFields } from "../src/envoy/protobuf.ts";
import { MetricsStore } from "../src/metrics.ts";
import { parsePairs } from "../src/pairs.ts";
import { MetricType } from "../src/types.ts";

// The exact text Envoy prints for these inputs (deploy.md §5; numbers from Envoy's prometheus_stats_test.cc).
const EXPECTED = `# TYPE api_observer_requests_total counter
api_observer_requests_total{} 42

# TYPE api_observer_inflight gauge
api_observer_inflight{} 3

# TYPE api_observer_latency_ms histogram
api_observer_latency_ms_bucket{le="0.5"} 0
api_observer_latency_ms_bucket{le="1"} 0
api_observer_latency_ms_bucket{le="5"} 0
api_observer_latency_ms_bucket{le="10"} 0
api_observer_latency_ms_bucket{le="25"} 1
api_observer_latency_ms_bucket{le="50"} 2
api_observer_latency_ms_bucket{le="100"} 4
api_observer_latency_ms_bucket{le="250"} 6
api_observer_latency_ms_bucket{le="500"} 6
api_observer_latency_ms_bucket{le="1000"} 6
api_observer_latency_ms_bucket{le="2500"} 6
api_observer_latency_ms_bucket{le="5000"} 6
api_observer_latency_ms_bucket{le="10000"} 7
api_observer_latency_ms_bucket{le="30000"} 7
api_observer_latency_ms_bucket{le="60000"} 7
api_observer_latency_ms_bucket{le="300000"} 7
api_observer_latency_ms_bucket{le="600000"} 7
api_observer_latency_ms_bucket{le="1800000"} 7
api_observer_latency_ms_bucket{le="3600000"} 7
api_observer_latency_ms_bucket{le="+Inf"} 7
api_observer_latency_ms_sum{} 5532
api_observer_latency_ms_count{} 7

`;

test("Prometheus text is exactly what Envoy prints (approximate histogram sum included)", () => {
  const store = new MetricsStore();
  store.define(MetricType.Counter, "api_observer_requests_total").value = 42n;
  store.define(MetricType.Gauge, "api_observer_inflight").value = 3n;
  const h = store.define(MetricType.Histogram, "api_observer_latency_ms").histogram!;
  for (const v of [20n, 30n, 50n, 70n, 100n, 200n, 5000n]) h.record(v);
  assert.equal(renderPrometheus(store), EXPECTED);
  assert.equal(h.exactSum, 5470n);
});

test("Prometheus names: namespace stripped, sanitised, digit-leading names dropped; tags from stats_tags", () => {
  assert.equal(
    prometheusName("wasmcustom.promstattest.vulture.eats-liver"),
    "promstattest_vulture_eats_liver",
  );
  assert.equal(prometheusName("wasmcustom.1bad"), null);
  assert.equal(prometheusName("cluster.x.upstream_rq"), "envoy_cluster_x_upstream_rq");
  const store = new MetricsStore();
  store.define(MetricType.Counter, "method=.=GET;.;route=.=/u/{id};.;requests_total").value = 2n;
  store.define(MetricType.Counter, "method=.=POST;.;route=.=/u;.;requests_total").value = 1n;
  store.define(MetricType.Histogram, 'route=.=/a"b;.;latency_ms').histogram!.record(30n);
  const text = renderPrometheus(store, {
    statsTags: [
      { tagName: "method", regex: "(method=\\.=(.*?);\\.;)" },
      { tagName: "route", regex: "(route=\\.=(.*?);\\.;)" },
    ],
  });
  assert.match(
    text,
    /^# TYPE requests_total counter\nrequests_total\{method="GET",route="\/u\/\{id\}"\} 2\nrequests_total\{method="POST",route="\/u"\} 1\n\n/,
  );
  assert.match(
    text,
    /latency_ms_bucket\{route="\/a\\"b",le="25"\} 0\nlatency_ms_bucket\{route="\/a\\"b",le="50"\} 1\n/,
  );
  assert.match(text, /latency_ms_sum\{route="\/a\\"b"\} 30\.5\n/);
});

test("tag extraction as Envoy's TagProducerImpl: every rule sees the original name, cuts are removed together", () => {
  const producer = new StatsTagProducer([
    // Pinned to the first token, so (as in Envoy) it runs after the unpinned rules.
    { tagName: "service", regex: "^wasmcustom\\.((\\w+)\\.v\\d\\.)" },
    // Matches inside the service rule's cut: applied one after the other, it would no longer find "v1.".
    { tagName: "version", regex: "\\.((v\\d)\\.)" },
    // One group: it is both the cut and the value.
    { tagName: "canary", regex: "_(canary)$" },
    // A second group that does not take part reads as an empty value, and its rule still cuts.
    { tagName: "zone", regex: "\\.(zone(?:_(\\w))?\\.)" },
  ]);
  assert.deepEqual(producer.produce("wasmcustom.orders.v1.zone.requests_canary"), {
    name: "wasmcustom.requests_",
    tags: [
      ["version", "v1"],
      ["canary", "canary"],
      ["zone", ""],
      ["service", "orders"],
    ],
  });
  // The value group may repeat text found earlier in the match: the cut is the group's own position.
  assert.deepEqual(new StatsTagProducer([{ tagName: "t", regex: "a\\.(a\\.)" }]).produce("a.a.x"), {
    name: "a.x",
    tags: [["t", "a."]],
  });
  const store = new MetricsStore();
  store.define(MetricType.Counter, "orders.v2.requests").value = 3n;
  const text = renderPrometheus(store, {
    statsTags: [
      { tagName: "service", regex: "^wasmcustom\\.((\\w+)\\.v\\d\\.)" },
      { tagName: "version", regex: "\\.((v\\d)\\.)" },
    ],
  });
  assert.equal(text, '# TYPE requests counter\nrequests{version="v2",service="orders"} 3\n\n');
});

test("%.32g formatting of bucket bounds and sums", () => {
  assert.equal(formatG32(0.5), "0.5");
  assert.equal(formatG32(3600000), "3600000");
  // %g drops trailing zeros of the 32 significant digits.
  assert.equal(formatG32(20.05), "20.0500000000000007105427357601");
});

test("property encodings: int64 LE, double, bool, timestamp/duration ns, maps and lists as pairs", () => {
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  assert.equal(dv(encodeProperty(-2)).getBigInt64(0, true), -2n);
  assert.equal(dv(encodeProperty(1n << 40n)).getBigUint64(0, true), 1n << 40n);
  assert.equal(dv(encodeProperty(new Double(1.5))).getFloat64(0, true), 1.5);
  assert.deepEqual([...encodeProperty(false)], [0]);
  assert.equal(dv(encodeProperty(new Date(1000))).getBigInt64(0, true), 1_000_000_000n);
  assert.equal(dv(encodeProperty(new Duration(42n))).getBigInt64(0, true), 42n);
  const map = parsePairs(encodeProperty({ a: "1", b: 2 }))!;
  assert.deepEqual(new TextDecoder().decode(map[0]![1]), "1");
  assert.equal(dv(map[1]![1]).getBigInt64(0, true), 2n);
  const list = parsePairs(encodeProperty(["x", "y"]))!;
  assert.deepEqual(
    list.map(([k, v]) => [new TextDecoder().decode(k), v.length]),
    [
      ["x", 0],
      ["y", 0],
    ],
  );
});

test("integers encode as int64 two's complement across the whole safe range, each in its own array", () => {
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const values = [0, 1, -1, 2 ** 32, -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53) + 1, 1_733_000_000_123_456];
  const encoded = values.map((v) => encodeProperty(v));
  // A shared scratch buffer must never leak into the results: each value keeps its own bytes.
  for (const [i, v] of values.entries()) assert.equal(dv(encoded[i]!).getBigInt64(0, true), BigInt(v));
  // Past 2^53 a number is still an integer: it goes through BigInt as before.
  assert.equal(dv(encodeProperty(2 ** 60)).getBigInt64(0, true), 2n ** 60n);
  assert.equal(dv(encodeProperty(-0.5)).getFloat64(0, true), -0.5);
});

test("property paths: one shared split per path text; UTF-8, long and many distinct paths still resolve", () => {
  const path = (...segments: string[]) => new TextEncoder().encode(segments.join("\0"));
  const first = splitPath(path("node", "metadata", "NAME"));
  assert.deepEqual([...first], ["node", "metadata", "NAME"]);
  assert.equal(splitPath(path("node", "metadata", "NAME")), first);
  assert.throws(() => (first as string[]).push("x"), TypeError);
  assert.deepEqual([...splitPath(path("a", "b", ""))], ["a", "b"]);
  const bag = { "node.metadata": { NAME: "n", é: "utf8" }, "x.y": [10, 20] };
  assert.equal(lookupProperty(bag, splitPath(path("node", "metadata", "é"))), "utf8");
  assert.equal(lookupProperty(bag, splitPath(path("x", "y", "1"))), 20);
  // More distinct paths than the cache holds: each still answers from its own segments.
  for (let i = 0; i < 1500; i++) {
    const segments = splitPath(path("node", "metadata", `k${i}`));
    assert.equal(segments[2], `k${i}`);
    assert.equal(lookupProperty({ "node.metadata": { [`k${i}`]: i } }, segments), i);
  }
  const long = Array.from({ length: 300 }, (_, i) => `s${i}`);
  assert.deepEqual([...splitPath(path(...long))], long);
});

test("protobuf arguments: fields read back; malformed input rejected", () => {
  const bytes = writeProtoFields([
    [1, "envoy.tcp_proxy.cluster"],
    [2, "egress"],
    [3, 2],
  ]);
  const fields = readProtoFields(bytes)!;
  assert.equal(new TextDecoder().decode(fields.get(1) as Uint8Array), "envoy.tcp_proxy.cluster");
  assert.equal(fields.get(3), 2n);
  assert.equal(readProtoFields(new Uint8Array([0x0a, 0x05, 0x41])), null, "length past the end");
  assert.equal(readProtoFields(new Uint8Array([0x0b])), null, "unsupported wire type");
  assert.equal(readProtoFields(new Uint8Array([0x08, 0xff])), null, "truncated varint");
});

test("a host keeps histogram counts but not every value, unless asked (a proxy records per request)", () => {
  const proxyStore = new MetricsStore();
  const testStore = new MetricsStore(true);
  for (const store of [proxyStore, testStore]) {
    const h = store.define(MetricType.Histogram, "latency_ms").histogram!;
    for (let i = 0n; i < 1000n; i++) h.record(i);
  }
  const kept = (s: MetricsStore) => s.find("latency_ms")!.histogram!;
  assert.equal(kept(proxyStore).count, 1000);
  assert.equal(kept(proxyStore).values.length, 0);
  assert.equal(kept(testStore).values.length, 1000);
  assert.equal(kept(proxyStore).approxSum(), kept(testStore).approxSum());
});
