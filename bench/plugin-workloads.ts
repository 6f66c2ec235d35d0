/**
 * How the plugins bench drives each plugin through the host harness: its configuration (the values of the
 * plugin's own envoy.yaml) and one request (HTTP) or connection (TCP). Shared by `plugins.bench.ts`, which
 * lists the plugins, and `plugin-memory-probe.ts`, which runs 100,000 of them in a fresh process.
 */
import type { PluginHarness } from "@proxy-wasm-ts/host/testing";

export type WorkloadKind = "http" | "tcp";

export interface Workload {
  kind: WorkloadKind;
  /** Folder under plugins/; undefined for the SDK-built no-op baselines. */
  plugin?: string;
  rootId?: string;
  /** The plugin's JSON configuration, as in its envoy.yaml. */
  configuration: string;
}

/** Every plugin the bench measures, and the no-op baselines (built from `NOOP_PLUGIN_SOURCE`). */
export const WORKLOADS: Record<string, Workload> = {
  "no-op plugin (http)": { kind: "http", configuration: "" },
  "no-op plugin (tcp)": { kind: "tcp", configuration: "" },
  "api-observer": {
    kind: "http",
    plugin: "api-observer",
    configuration: JSON.stringify({
      upstream_name: "ingestion-service",
      authority: "ingestion-service",
      path: "/api/v1/events",
      max_body_bytes: 65536,
      redact_headers: ["x-api-key"],
      redact_body_fields: ["password", "token", "api_key", "card_number"],
      batch_size: 50,
      flush_interval_ms: 1000,
      max_buffered_events: 1000,
      max_buffered_bytes: 8388608,
      timeout_ms: 2000,
    }),
  },
  "body-redaction": {
    kind: "http",
    plugin: "body-redaction",
    configuration: '{"secrets": ["SECRET"], "replacement": "[REDACTED]", "max_body_bytes": 262144}',
  },
  "callout-enrichment": {
    kind: "http",
    plugin: "callout-enrichment",
    configuration:
      '{"cluster": "metadata", "authority": "metadata", "path": "/headers", "field": "name", "timeout_ms": 1000}',
  },
  "egress-blocklist": {
    kind: "http",
    plugin: "egress-blocklist",
    configuration: '{"suffixes": [".example.com"], "hosts": [], "status": 451, "body": "blocked by wasm"}',
  },
  "header-mutation": {
    kind: "http",
    plugin: "header-mutation",
    configuration: '{"header": "x-training", "value": "envoy-wasm"}',
  },
  // The default, and what the Istio WasmPlugin ships (wasmplugin.yaml): metrics only. A JSON line per request
  // repeats what Envoy's access log already has; the training envoy.yaml turns it on to show it, and what that
  // costs is the next case.
  "http-timing": {
    kind: "http",
    plugin: "http-timing",
    configuration: '{"direction": "listener"}',
  },
  "http-timing (log_requests: true)": {
    kind: "http",
    plugin: "http-timing",
    configuration: '{"direction": "listener", "log_requests": true}',
  },
  "regional-routing": {
    kind: "http",
    plugin: "regional-routing",
    configuration: JSON.stringify({
      discovery_cluster: "discovery_service",
      discovery_authority: "discovery",
      discovery_path: "/v1/region",
      timeout_ms: 1000,
      cache_ttl_ms: 30000,
      allowed_regions: ["us_east1", "us_central1"],
    }),
  },
  "tcp-routing": {
    kind: "tcp",
    plugin: "tcp-routing",
    rootId: "tcp-routing",
    configuration: '{"rule": "parity", "even_cluster": "egress-router1", "odd_cluster": "egress-router2"}',
  },
};

/** A plugin that does nothing on either kind of stream: the floor our SDK adds to every plugin. */
export const NOOP_PLUGIN_SOURCE = `export * from "@proxy-wasm-ts/sdk/assembly/exports";
import { HttpContext, RootContext, StreamContext, registerRootContext } from "@proxy-wasm-ts/sdk/assembly";
class NoopHttp extends HttpContext {}
class NoopTcp extends StreamContext {}
class NoopRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext | null {
    return new NoopHttp(contextId, this);
  }
  createStreamContext(contextId: u32): StreamContext | null {
    return new NoopTcp(contextId, this);
  }
}
registerRootContext((contextId: u32): RootContext => new NoopRoot(contextId));
`;

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * One answer fits every callout the plugins make: regional-routing reads `region` (or `args.region`),
 * callout-enrichment reads `name`, api-observer only needs a 2xx.
 */
const CALLOUT_ANSWER = {
  headers: [[utf8(":status"), utf8("200")]] as Array<[Uint8Array, Uint8Array]>,
  body: utf8('{"region":"us_east1","args":{"region":"us_east1"},"name":"bench"}'),
};

/** Answers every callout made so far and forgets it, so the harness's records do not grow with the run. */
function answerCallouts(t: PluginHarness): void {
  const calls = t.upstream.httpCalls;
  while (calls.length > 0) calls.shift()!.respond(CALLOUT_ANSWER);
}

// Headers, bodies and the stream's addresses go in as bytes, made once: Envoy hands a plugin bytes it
// already holds, so a string encoded per request would charge every plugin that reads them for work no
// proxy does.
const REQUEST_BODY = utf8('{"user":"bench","password":"hunter2","note":"SECRET=abc"}');
const RESPONSE_BODY = utf8('{"ok":true,"token":"t0k3n","echo":"SECRET=abc"}');
const PATHS = Array.from({ length: 1000 }, (_, i) => utf8(`/users/${i}`));
const AUTHORITIES = Array.from({ length: 100 }, (_, i) => utf8(`host-${i}.bench.local`));
const [METHOD, PATH, AUTHORITY, SCHEME, CONTENT_TYPE, API_KEY, STATUS, CONTENT_LENGTH] = [
  ":method",
  ":path",
  ":authority",
  ":scheme",
  "content-type",
  "x-api-key",
  ":status",
  "content-length",
].map(utf8);
const [POST, HTTP, JSON_TYPE, KEY, OK] = ["POST", "http", "application/json", "k", "200"].map(utf8);
const RESPONSE_HEADERS: Array<[Uint8Array, Uint8Array]> = [
  [STATUS!, OK!],
  [CONTENT_TYPE!, JSON_TYPE!],
  [CONTENT_LENGTH!, utf8(String(RESPONSE_BODY.length))],
];
/** Envoy's int64 encoding of a property value (8 bytes, little-endian). */
const int64 = (n: number): Uint8Array => new Uint8Array(new BigInt64Array([BigInt(n)]).buffer);
// A sidecar's inbound listener, as Istio configures one: Envoy knows its traffic direction (INBOUND = 1), so
// `listener_direction` and `xds.listener_direction` answer, and plugins that ask (http-timing, api-observer's
// `node_workload: auto`) need no second read.
const STREAM_PROPERTIES = {
  "source.address": utf8("10.1.2.3:51000"),
  "destination.address": utf8("10.9.9.9:8080"),
  // The response comes from an upstream, so Envoy knows which host answered.
  "upstream.address": utf8("10.9.9.9:8080"),
  listener_direction: int64(1),
  "xds.listener_direction": int64(1),
};

/**
 * One HTTP request with a JSON body each way. The authority cycles over 100 hosts, so regional-routing's
 * cache sees hits, misses and expiries (1 ms of manual time passes per request, its TTL is 30 s).
 */
function httpRequest(t: PluginHarness, i: number): void {
  const http = t.http(STREAM_PROPERTIES);
  http.requestHeaders([
    [METHOD!, POST!],
    [PATH!, PATHS[i % 1000]!],
    [AUTHORITY!, AUTHORITIES[i % 100]!],
    [SCHEME!, HTTP!],
    [CONTENT_TYPE!, JSON_TYPE!],
    [API_KEY!, KEY!],
  ]);
  answerCallouts(t);
  http.requestBody(REQUEST_BODY, true);
  answerCallouts(t);
  http.responseHeaders(RESPONSE_HEADERS);
  http.responseBody(RESPONSE_BODY, true);
  http.complete();
  answerCallouts(t);
}

/** One TCP connection from a varying source address: a request one way, an answer the other, then close. */
function tcpConnection(t: PluginHarness, i: number): void {
  const tcp = t.tcp({ "source.address": `10.0.${(i >> 8) & 255}.${i & 255}:${40000 + (i % 20000)}` });
  tcp.newConnection();
  tcp.downstreamData("ping\n");
  tcp.upstreamData("pong\n");
  tcp.closeDownstream();
  tcp.complete();
}

/** Runs `count` requests or connections; 1 ms of manual time passes per item (ticks and TTLs fire). */
export function runWorkload(t: PluginHarness, kind: WorkloadKind, count: number): void {
  const logs = t.testHost.logEntries;
  for (let i = 0; i < count; i++) {
    if (kind === "http") httpRequest(t, i);
    else tcpConnection(t, i);
    t.advance(1);
    answerCallouts(t); // a tick may flush a batch
    // The harness keeps every log line for assertions; a bench measures the plugin, not that record.
    logs.length = 0;
  }
}
