import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { type PluginHarness, startPlugin } from "@proxy-wasm-ts/host/testing";
import { type ApiEventInput, normalizeEvent } from "@proxy-wasm-ts/ingestion";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
import { rejectedConfigurationLogs } from "../../test-support/plugin-harness.ts";
import { readmeJsonExamples } from "../../test-support/shipped-configs.ts";

const pluginDir = pluginDirOf(import.meta.url);
let wasm: Uint8Array;

before(async () => {
  wasm = await buildPlugin(pluginDir);
});

const BASE_CONFIG = { upstream_name: "ingestion-service", authority: "ingestion", path: "/api/v1/events" };

function start(config: Record<string, unknown> = {}, nodeMetadata: Record<string, string> = {}) {
  return startPlugin(wasm, {
    name: "api-observer",
    configuration: JSON.stringify({ ...BASE_CONFIG, ...config }),
    clusters: ["ingestion-service"],
    nodeProperties: { "node.metadata": nodeMetadata },
  });
}

type Pairs = Array<[string, string]>;

interface Call {
  request?: Pairs;
  requestChunks?: Array<string | Uint8Array>;
  response?: Pairs;
  responseChunks?: Array<string | Uint8Array>;
  /** Sent after the response body, which then does not end the stream. */
  responseTrailers?: Pairs;
  properties?: Record<string, string | number>;
}

/** Runs one observed call through the plugin (every callback must let it through untouched). */
function observe(t: PluginHarness, call: Call = {}): void {
  const http = t.http({
    "source.address": "10.1.2.3:51000",
    "destination.address": "10.9.9.9:8080",
    ...call.properties,
  });
  const request: Pairs = call.request ?? [
    [":method", "GET"],
    [":path", "/users/42"],
    [":authority", "api.example.com"],
  ];
  const requestChunks = call.requestChunks ?? [];
  assert.equal(http.requestHeaders(request, requestChunks.length === 0), 0);
  for (const [i, chunk] of requestChunks.entries()) {
    assert.equal(http.requestBody(chunk, i === requestChunks.length - 1), 0);
  }
  const responseChunks = call.responseChunks ?? [];
  const trailers = call.responseTrailers;
  assert.equal(
    http.responseHeaders(call.response ?? [[":status", "200"]], responseChunks.length === 0 && !trailers),
    0,
  );
  for (const [i, chunk] of responseChunks.entries()) {
    assert.equal(http.responseBody(chunk, i === responseChunks.length - 1 && !trailers), 0);
  }
  if (trailers) assert.equal(http.responseTrailers(trailers), 0);
  http.complete();
}

/** Events of every batch posted so far, parsed. */
function postedEvents(t: PluginHarness): ApiEventInput[] {
  return t.httpCalls.flatMap((c) => JSON.parse(new TextDecoder().decode(c.body)) as ApiEventInput[]);
}

const accept = { headers: [[":status", "202"]] as Pairs, body: "{}" };

describe("api-observer", { timeout: 60_000 }, () => {
  test("records the call and posts it in the ingestion service's schema", async () => {
    const t = await start(
      { batch_size: 1 },
      { NAME: "frontend-7d9f", NAMESPACE: "shop", NODE_NAME: "node-a" },
    );
    t.advance(5); // a non-zero request time
    observe(t, {
      request: [
        [":method", "POST"],
        [":path", "/orders?id=7"],
        [":authority", "api.example.com"],
        ["content-type", "application/json"],
        ["x-envoy-internal", "true"],
        ["x-request-id", "abc"],
      ],
      requestChunks: ['{"item":', '"book",', '"qty":2}'],
      response: [
        [":status", "201"],
        ["content-type", "application/json"],
        ["x-envoy-upstream-service-time", "3"],
      ],
      responseChunks: ['{"id":', "7}"],
      properties: { "request.protocol": "HTTP/2" },
    });
    assert.equal(t.httpCalls.length, 1);
    const call = t.httpCalls[0]!;
    assert.equal(call.cluster, "ingestion-service");
    assert.equal(call.header(":method"), "POST");
    assert.equal(call.header(":path"), "/api/v1/events");
    assert.equal(call.header(":authority"), "ingestion");
    assert.equal(call.header("content-type"), "application/json");
    const [event] = postedEvents(t);
    assert.ok(event);
    assert.deepEqual(event.request?.headers, {
      ":method": "POST",
      ":path": "/orders?id=7",
      ":authority": "api.example.com",
      "content-type": "application/json",
      "x-request-id": "abc",
    });
    assert.equal(event.request?.body, '{"item":"book","qty":2}');
    assert.deepEqual(event.response?.headers, { ":status": "201", "content-type": "application/json" });
    assert.equal(event.response?.body, '{"id":7}');
    assert.deepEqual(event.source, { name: "frontend-7d9f", namespace: "shop", ip: "10.1.2.3", port: 51000 });
    assert.deepEqual(event.destination, { name: "", namespace: "", ip: "10.9.9.9", port: 8080 });
    assert.equal(event.method, "POST");
    assert.equal(event.path, "/orders?id=7");
    assert.equal(event.status, 201);
    assert.equal(event.protocol, "HTTP/2");
    assert.equal(event.metadata?.node_name, "node-a");
    assert.equal(event.metadata?.traffic_source_name, "Envoy");
    assert.equal(typeof event.latency_ms, "number");
    assert.ok((event.timestamp_ms ?? 0) > 1_600_000_000_000);
    // The service accepts it as is (it refuses unknown fields, bad IPs, non-tokens ...).
    const stored = normalizeEvent(event, "event 0", { now: Date.now() });
    assert.equal(stored.method, "POST");
    assert.equal(stored.status, 201);
  });

  test("headers: repeats joined, names lower-cased, x-envoy and over-long names dropped, values clipped and repaired", async () => {
    const t = await start({ batch_size: 1 });
    const bytes = (...b: number[]) => new Uint8Array(b);
    const longValue = "v".repeat(20_000);
    observe(t, {
      request: [
        [":method", "GET"],
        [":path", "/a"],
        ["x-trace", "a"],
        ["X-Trace", "b"],
        ["X-Ünï", "text"],
        ["x-envoy-decorator", "1"],
        ["n".repeat(257), "dropped"],
        ["x-long", longValue],
        ["authorization", "Bearer z"],
        ["Cookie", "k=v"],
        // "a", a byte that is never UTF-8, "b": written as U+FFFD, as TextDecoder reads it.
        ["x-bin", bytes(0x61, 0xff, 0x62) as unknown as string],
      ],
    });
    const [event] = postedEvents(t);
    assert.deepEqual(event?.request?.headers, {
      ":method": "GET",
      ":path": "/a",
      "x-trace": "a,b",
      "x-Ünï": "text",
      "x-long": "v".repeat(16_384),
      authorization: "[REDACTED]",
      cookie: "[REDACTED]",
      "x-bin": "a\uFFFDb",
    });
  });

  test("bodies are kept across all chunks up to the cap, binary bodies as base64", async () => {
    const t = await start({ batch_size: 1, max_body_bytes: 10 });
    observe(t, {
      requestChunks: ["0123", "4567", "89ab", "cdef"],
      responseChunks: [new Uint8Array([0, 0xff, 0x10, 0x80])],
    });
    const [event] = postedEvents(t);
    assert.equal(event?.request?.body, "0123456789");
    assert.equal(event?.response?.body, undefined);
    assert.equal(event?.response?.body_base64, Buffer.from([0, 0xff, 0x10, 0x80]).toString("base64"));
    normalizeEvent(event, "event 0", { now: Date.now() });
  });

  /** A gRPC message on the wire: compressed flag, 4-byte big-endian length, the message. */
  const frame = (message: string) => {
    const bytes = new TextEncoder().encode(message);
    const out = new Uint8Array(5 + bytes.length);
    new DataView(out.buffer).setUint32(1, bytes.length);
    out.set(bytes, 5);
    return out;
  };
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
  const grpcRequest: Pairs = [
    [":method", "POST"],
    [":path", "/demo.Greeter/Hello"],
    [":authority", "api.example.com"],
    ["content-type", "application/grpc+proto"],
    ["te", "trailers"],
  ];

  test("a gRPC call: grpc-status and grpc-message from the trailers, frames as base64, HTTP 200", async () => {
    const t = await start({ batch_size: 1 });
    observe(t, {
      request: grpcRequest,
      requestChunks: [frame("ann")],
      response: [
        [":status", "200"],
        ["content-type", "application/grpc"],
      ],
      responseChunks: [frame("hello ann")],
      responseTrailers: [
        ["grpc-status", "0"],
        ["grpc-message", ""],
      ],
    });
    const [event] = postedEvents(t);
    assert.equal(event?.status, 200);
    assert.equal(event?.path, "/demo.Greeter/Hello");
    assert.equal(event?.response?.headers?.["grpc-status"], "0");
    assert.equal(event?.response?.headers?.["grpc-message"], "");
    // Valid UTF-8 bytes, still frames: base64.
    assert.equal(event?.request?.body, undefined);
    assert.equal(event?.request?.body_base64, base64(frame("ann")));
    assert.equal(event?.response?.body_base64, base64(frame("hello ann")));
    const stored = normalizeEvent(event, "event 0", { now: Date.now() });
    assert.equal(stored.route, "/demo.Greeter/Hello");
  });

  test("a trailers-only gRPC response keeps grpc-status from its headers", async () => {
    const t = await start({ batch_size: 1 });
    observe(t, {
      request: grpcRequest,
      requestChunks: [frame("bob")],
      response: [
        [":status", "200"],
        ["content-type", "application/grpc"],
        ["grpc-status", "5"],
        ["grpc-message", "no%20such%20greeting"],
      ],
    });
    const [event] = postedEvents(t);
    assert.equal(event?.status, 200);
    assert.equal(event?.response?.headers?.["grpc-status"], "5");
    assert.equal(event?.response?.headers?.["grpc-message"], "no%20such%20greeting");
    assert.equal(event?.response?.body_base64, undefined);
    normalizeEvent(event, "event 0", { now: Date.now() });
  });

  test("plain HTTP is unchanged: text bodies stay text, trailers are not recorded", async () => {
    const t = await start({ batch_size: 1 });
    observe(t, {
      request: [
        [":method", "POST"],
        [":path", "/upload"],
        ["content-type", "application/json"],
      ],
      requestChunks: ['{"a":1}'],
      responseChunks: ["ok"],
      responseTrailers: [["x-checksum", "abc"]],
    });
    const [event] = postedEvents(t);
    assert.equal(event?.request?.body, '{"a":1}');
    assert.equal(event?.response?.body, "ok");
    assert.equal(event?.response?.headers?.["x-checksum"], undefined);
  });

  test("text bodies with quotes, backslashes, control characters and emoji arrive unchanged", async () => {
    const t = await start({ batch_size: 1 });
    const text = 'say "hi" \\ tab\t nul\u0000 bell\u0007 line\nend é € 🚀 '.repeat(200);
    observe(t, { requestChunks: [text.slice(0, 1001), text.slice(1001)] });
    assert.equal(postedEvents(t)[0]?.request?.body, text);
  });

  test("an escape-heavy body costs memory in proportion to its size", async () => {
    // Quadratic string building (the SDK's JsonWriter at shrinkLevel 2) needed ~390 MB for 16 KB of quotes.
    const t = await start({ batch_size: 1, max_body_bytes: 1_000_000 });
    const body = '"a",'.repeat(64_000); // 256 KB, 128 K quotes to escape
    observe(t, { requestChunks: [body], responseChunks: [body] });
    assert.equal(postedEvents(t)[0]?.request?.body, body);
    assert.ok(
      t.plugin.vm.memory.buffer.byteLength < 64 * 1024 * 1024,
      `${t.plugin.vm.memory.buffer.byteLength} bytes`,
    );
  });

  test("a cap inside a multi-byte character keeps the text body text", async () => {
    const t = await start({ batch_size: 1, max_body_bytes: 4 });
    observe(t, { responseChunks: ["aé", "€"] }); // 1 + 2 + 3 bytes; the cap cuts the euro sign
    assert.equal(postedEvents(t)[0]?.response?.body, "aé");
  });

  test("secrets are redacted before the event leaves the proxy", async () => {
    const t = await start({
      batch_size: 1,
      redact_headers: ["X-Api-Key"],
      redact_body_fields: ["password", "card"],
    });
    observe(t, {
      request: [
        [":method", "POST"],
        [":path", "/login?user=ann&password=hunter2&next=/home"],
        [":authority", "api.example.com"],
        ["authorization", "Bearer eyJhbGciOi"],
        ["cookie", "session=s3cr3t"],
        ["x-api-key", "k-123"],
      ],
      requestChunks: ['{"user":"ann","pass', 'word" : "hunter2","card":{"n":"4111"},"keep":1}'],
      response: [
        [":status", "200"],
        ["set-cookie", "session=new"],
      ],
      responseChunks: ["user=ann&password=hunter2&ok=1"],
    });
    const posted = new TextDecoder().decode(t.httpCalls[0]!.body);
    for (const secret of ["hunter2", "eyJhbGciOi", "s3cr3t", "k-123", "session=new", "4111"]) {
      assert.ok(!posted.includes(secret), `${secret} leaked: ${posted}`);
    }
    const [event] = postedEvents(t);
    assert.equal(event?.request?.headers?.authorization, "[REDACTED]");
    assert.equal(event?.request?.headers?.cookie, "[REDACTED]");
    assert.equal(event?.request?.headers?.["x-api-key"], "[REDACTED]");
    assert.equal(event?.response?.headers?.["set-cookie"], "[REDACTED]");
    assert.equal(event?.path, "/login?user=ann&password=[REDACTED]&next=/home");
    assert.equal(event?.request?.headers?.[":path"], "/login?user=ann&password=[REDACTED]&next=/home");
    assert.equal(
      event?.request?.body,
      '{"user":"ann","password" : "[REDACTED]","card":"[REDACTED]","keep":1}',
    );
    assert.equal(event?.response?.body, "user=ann&password=[REDACTED]&ok=1");
  });

  test("secrets an upstream echoes back (escaped JSON, headers, URLs) are redacted too", async () => {
    const t = await start({ batch_size: 1 });
    const echoed = JSON.stringify({
      data: JSON.stringify({ user: "ann", password: "hunter2" }),
      headers: { Authorization: "Bearer eyJhbGciOi", Cookie: "sid=s3cr3t" },
      url: "http://api.example.com/login?token=t0k3n&x=1",
    });
    observe(t, { responseChunks: [echoed.slice(0, 30), echoed.slice(30)] });
    const posted = new TextDecoder().decode(t.httpCalls[0]!.body);
    for (const secret of ["hunter2", "eyJhbGciOi", "s3cr3t", "t0k3n"])
      assert.ok(!posted.includes(secret), `${secret} leaked`);
    const body = JSON.parse(postedEvents(t)[0]?.response?.body ?? "{}");
    assert.deepEqual(JSON.parse(body.data), { user: "ann", password: "[REDACTED]" });
    assert.deepEqual(body.headers, { Authorization: "[REDACTED]", Cookie: "[REDACTED]" });
    assert.equal(body.url, "http://api.example.com/login?token=[REDACTED]&x=1");
  });

  test("IPv6 workloads, and inbound listeners put the node's workload on the destination side", async () => {
    const t = await start({ batch_size: 1 }, { NAME: "orders-5c", NAMESPACE: "shop" });
    observe(t, {
      properties: {
        "source.address": "[2001:db8::7]:40000",
        "destination.address": "[2001:db8::1]:8080",
        "xds.listener_direction": 1,
      },
    });
    const [event] = postedEvents(t);
    assert.deepEqual(event?.source, { name: "", namespace: "", ip: "2001:db8::7", port: 40000 });
    assert.deepEqual(event?.destination, {
      name: "orders-5c",
      namespace: "shop",
      ip: "2001:db8::1",
      port: 8080,
    });
    normalizeEvent(event, "event 0", { now: Date.now() });
  });

  test("events are batched: a full batch goes at once, the rest on the tick, as one JSON array", async () => {
    const t = await start({ batch_size: 3, flush_interval_ms: 1000 });
    assert.equal(t.tickPeriodMs, 1000);
    for (let i = 0; i < 4; i++) observe(t);
    assert.equal(t.httpCalls.length, 1);
    assert.equal(JSON.parse(new TextDecoder().decode(t.httpCalls[0]!.body)).length, 3);
    assert.equal(t.gauge("api_observer_buffered_events"), 1n);
    t.advance(1000);
    assert.equal(t.httpCalls.length, 2);
    assert.equal(JSON.parse(new TextDecoder().decode(t.httpCalls[1]!.body)).length, 1);
    for (const c of t.httpCalls) c.respond(accept);
    assert.equal(t.counter("api_observer_events_sent_total"), 4n);
    assert.equal(t.counter("api_observer_events_dropped_total"), 0n);
  });

  test("a collector that is down or refuses counts dropped events, and memory stays bounded", async () => {
    const t = await start({ batch_size: 2, max_buffered_events: 5 });
    for (let i = 0; i < 4; i++) observe(t); // two batches in flight (the most there can be)
    assert.equal(t.httpCalls.length, 2);
    for (let i = 0; i < 7; i++) observe(t); // 5 wait in the buffer, 2 do not fit
    assert.equal(t.httpCalls.length, 2);
    assert.equal(t.gauge("api_observer_buffered_events"), 5n);
    assert.equal(t.counter("api_observer_events_dropped_total"), 2n);
    const dropped = () => t.counter("api_observer_events_dropped_total");
    t.httpCalls[0]!.fail(); // connection refused; the freed slot takes the next full batch
    assert.equal(dropped(), 4n);
    assert.equal(t.httpCalls.length, 3);
    t.httpCalls[1]!.respond({ headers: [[":status", "503"]], body: "write queue full" });
    assert.equal(dropped(), 6n);
    assert.equal(t.httpCalls.length, 4);
    assert.match(t.logs("warn").join("\n"), /2 event\(s\) dropped: collector did not answer/);
    t.advance(2000); // both batches in flight time out
    assert.equal(dropped(), 10n);
    t.advance(1000); // the last buffered event goes on a tick
    for (const c of t.upstream.pendingHttpCalls) c.respond(accept);
    assert.equal(t.counter("api_observer_events_sent_total"), 1n);
    assert.equal(t.gauge("api_observer_buffered_events"), 0n);
    assert.match(t.logs("info").join("\n"), /accepts events again/);
  });

  test("an unknown collector cluster drops and counts instead of failing requests", async () => {
    const t = await startPlugin(wasm, {
      name: "api-observer",
      configuration: JSON.stringify({ ...BASE_CONFIG, upstream_name: "missing", batch_size: 1 }),
      clusters: ["ingestion-service"],
    });
    observe(t);
    assert.equal(t.counter("api_observer_events_dropped_total"), 1n);
  });

  test("calls the service could not store are counted as invalid, not posted", async () => {
    const t = await start({ batch_size: 1 });
    observe(t, {
      request: [
        [":method", "CONNECT"],
        [":authority", "db:5432"],
      ],
    });
    assert.equal(t.httpCalls.length, 0);
    assert.equal(t.counter("api_observer_events_invalid_total"), 1n);
  });

  test("auth_token goes as a bearer token; node_workload can put the node on the destination side", async () => {
    const t = await start(
      { batch_size: 1, auth_token: "ingest-123", node_workload: "destination" },
      { NAME: "api" },
    );
    observe(t);
    assert.equal(t.httpCalls[0]?.header("authorization"), "Bearer ingest-123");
    const [event] = postedEvents(t);
    assert.equal(event?.source?.name, "");
    assert.equal(event?.destination?.name, "api");
  });

  test("a call without a response is recorded with status 0", async () => {
    const t = await start({ batch_size: 1 });
    const http = t.http({ "source.address": "10.1.2.3:51000" });
    http.requestHeaders(
      [
        [":method", "GET"],
        [":path", "/slow"],
        [":authority", "api.example.com"],
      ],
      true,
    );
    http.complete(); // the client went away before any response
    const [event] = postedEvents(t);
    assert.equal(event?.status, 0);
    assert.deepEqual(event?.response?.headers, {});
    assert.equal(normalizeEvent(event, "event 0", { now: Date.now() }).status, 0);
  });

  test("an invalid configuration is rejected with the reason", async () => {
    for (const [configuration, reason] of [
      ["", /must be a JSON object/],
      [JSON.stringify({ authority: "x" }), /upstream_name is required/],
      [JSON.stringify({ ...BASE_CONFIG, max_body_bytes: 2_000_000 }), /max_body_bytes must be an integer/],
      [
        JSON.stringify({ ...BASE_CONFIG, redact_headers: "authorization" }),
        /redact_headers must be an array/,
      ],
      [JSON.stringify({ ...BASE_CONFIG, batchSize: 5 }), /unknown field "batchSize"/],
      [JSON.stringify({ ...BASE_CONFIG, node_workload: "both" }), /node_workload/],
    ] as const) {
      const logs = await rejectedConfigurationLogs(pluginDir, configuration);
      assert.match(logs.join("\n"), reason);
    }
  });

  test("the configuration examples in README.md are accepted", async () => {
    const examples = await readmeJsonExamples(pluginDir);
    assert.ok(examples.length > 0);
    for (const configuration of examples) await startPlugin(wasm, { name: "api-observer", configuration });
  });
});
