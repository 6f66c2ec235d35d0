/**
 * `proxy_http_call` through the data plane's clusters, answered as Envoy's async client answers it: no
 * healthy host is INTERNAL_FAILURE at dispatch, a connect failure is the router's 503 response, a reset after
 * the headers is a failure, and a call cancelled by its VM's end stops its upstream request.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { serializePairs } from "@proxy-wasm-ts/host";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { freePort } from "@proxy-wasm-ts/test-support/server-process";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";
import { WAT_ACCEPTING_START, WAT_PLUGIN_BASICS } from "./support/wat-plugin.ts";

const wat = (text: string) =>
  [...Buffer.from(text, "latin1")].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");

/**
 * Calls the cluster named by the request's `x-cluster` header (GET /callout, `timeoutMs`) and pauses; a
 * refused dispatch puts its status (two digits) in `x-dispatch-status` and goes on. The answer's `:status`
 * and body go into `x-call-status` / `x-call-body` (absent for a failed call: no headers), then the request
 * resumes. A request with `x-trap` traps, which fails the VM.
 */
function calloutProbeWat(timeoutMs = 20_000): string {
  const call = Buffer.from(
    serializePairs([
      [":method", "GET"],
      [":path", "/callout"],
      [":authority", "svc"],
    ]),
  );
  const text = {
    16: "x-cluster",
    32: "x-dispatch-status",
    64: "x-call-status",
    80: "x-call-body",
    96: ":status",
    112: "x-trap",
  };
  return `(module
  (import "env" "proxy_get_header_map_value" (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $set_effective (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (memory (export "memory") 2)
  ${Object.entries(text)
    .map(([at, s]) => `(data (i32.const ${at}) "${wat(s)}")`)
    .join("\n  ")}
  (data (i32.const 256) "${[...call].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("")}")
  ${WAT_PLUGIN_BASICS}
  ${WAT_ACCEPTING_START}
  (global $pending (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (local $r i32)
    (if (i32.eqz (call $get_header (i32.const 0) (i32.const 112) (i32.const ${text[112].length}) (i32.const 1024) (i32.const 1028)))
      (then unreachable))
    (drop (call $get_header (i32.const 0) (i32.const 16) (i32.const ${text[16].length}) (i32.const 1024) (i32.const 1028)))
    (global.set $pending (local.get $ctx))
    (local.set $r (call $http_call (i32.load (i32.const 1024)) (i32.load (i32.const 1028))
      (i32.const 256) (i32.const ${call.length}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const ${timeoutMs}) (i32.const 1048)))
    (if (i32.eqz (local.get $r)) (then (return (i32.const 1))))
    (i32.store8 (i32.const 200) (i32.add (i32.const 48) (i32.div_u (local.get $r) (i32.const 10))))
    (i32.store8 (i32.const 201) (i32.add (i32.const 48) (i32.rem_u (local.get $r) (i32.const 10))))
    (drop (call $replace (i32.const 0) (i32.const 32) (i32.const ${text[32].length}) (i32.const 200) (i32.const 2)))
    (i32.const 0))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32) (param $size i32) (param i32)
    (drop (call $set_effective (global.get $pending)))
    (if (i32.eqz (call $get_header (i32.const 6) (i32.const 96) (i32.const ${text[96].length}) (i32.const 1032) (i32.const 1036)))
      (then
        (drop (call $replace (i32.const 0) (i32.const 64) (i32.const ${text[64].length}) (i32.load (i32.const 1032)) (i32.load (i32.const 1036))))
        (if (i32.eqz (call $get_buffer (i32.const 4) (i32.const 0) (local.get $size) (i32.const 1040) (i32.const 1044)))
          (then (drop (call $replace (i32.const 0) (i32.const 80) (i32.const ${text[80].length}) (i32.load (i32.const 1040)) (i32.load (i32.const 1044))))))))
    (drop (call $continue (i32.const 0))))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
)`;
}

const plugins = writePlugins({ probe: calloutProbeWat(), quick: calloutProbeWat(200) });

/** A callout upstream that never answers: `arrived` when a request comes, `closed` when its exchange ends. */
function silentUpstream(): { server: Server; arrived: Promise<void>; closed: Promise<void> } {
  let arrive!: () => void;
  let close!: () => void;
  const arrived = new Promise<void>((r) => (arrive = r));
  const closed = new Promise<void>((r) => (close = r));
  const server = createServer((req: IncomingMessage) => {
    arrive();
    req.socket.on("close", close);
  });
  return { server, arrived, closed };
}

describe("HTTP callouts answered as Envoy's async client answers them", { timeout: 30_000 }, () => {
  let app: TestUpstream;
  let answering: TestUpstream;
  let deadPort: number;
  const silent = silentUpstream();
  let silentPort: number;
  let p: RunningTestProxy;

  before(async () => {
    app = await startUpstream("app");
    answering = await startUpstream("answering");
    deadPort = await freePort();
    await new Promise<void>((r) => silent.server.listen(0, "127.0.0.1", r));
    silentPort = (silent.server.address() as { port: number }).port;
    p = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.probe, { name: "probe" }),
        routes: `
              - match: { prefix: "/" }
                route: { cluster: app }`,
        clusters: [
          staticCluster("app", app.port),
          staticCluster("answering", answering.port),
          staticCluster("dead", deadPort),
          staticCluster("silent", silentPort),
          `
  - name: empty
    connect_timeout: 1s
    type: STATIC`,
        ].join(""),
      }),
    );
  });

  after(async () => {
    await p?.close();
    silent.server.closeAllConnections();
    await Promise.all([app?.close(), answering?.close(), new Promise((r) => silent.server.close(r))]);
  });

  async function headersSeenUpstream(cluster: string): Promise<Record<string, unknown>> {
    const res = await request(`${p.url()}/x`, { headers: { "x-cluster": cluster } });
    assert.equal(res.statusCode, 200);
    return ((await res.body.json()) as { headers: Record<string, unknown> }).headers;
  }

  async function counter(name: string): Promise<number> {
    const text = await (await request(`${p.adminUrl()}/stats`)).body.text();
    const line = text.split("\n").find((l) => l.startsWith(`${name}: `));
    return line ? Number(line.slice(name.length + 2)) : 0;
  }

  test("an answered call reaches the plugin with its status and body", async () => {
    const headers = await headersSeenUpstream("answering");
    assert.equal(headers["x-call-status"], "200");
    assert.match(String(headers["x-call-body"]), /"url":"\/callout"/);
  });

  test("a cluster with no healthy host refuses the dispatch: INTERNAL_FAILURE, no callback", async () => {
    // context.cc Context::httpCall: AsyncClientImpl::send returned null (the router answered inline).
    const headers = await headersSeenUpstream("empty");
    assert.equal(headers["x-dispatch-status"], "10");
    assert.equal(headers["x-call-status"], undefined);
    assert.equal(await counter("cluster.empty.upstream_cx_none_healthy"), 1);
  });

  test("a connect failure is the router's 503 reply, delivered as a response", async () => {
    const headers = await headersSeenUpstream("dead");
    assert.equal(headers["x-dispatch-status"], undefined);
    assert.equal(headers["x-call-status"], "503");
    assert.equal(
      headers["x-call-body"],
      "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
    );
    assert.equal(await counter("cluster.dead.upstream_cx_connect_fail"), 1);
  });

  test("a call that times out gets the router's 504 and stops its upstream request", async () => {
    // router.cc onResponseTimeout resets the upstream request and answers 504 "upstream request timeout".
    const quiet = silentUpstream();
    await new Promise<void>((r) => quiet.server.listen(0, "127.0.0.1", r));
    const quick = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.quick, { name: "quick" }),
        routes: `
              - match: { prefix: "/" }
                route: { cluster: app }`,
        clusters:
          staticCluster("app", app.port) +
          staticCluster("quiet", (quiet.server.address() as { port: number }).port),
        admin: false,
      }),
    );
    try {
      const res = await request(`${quick.url()}/x`, { headers: { "x-cluster": "quiet" } });
      const headers = ((await res.body.json()) as { headers: Record<string, unknown> }).headers;
      assert.equal(headers["x-call-status"], "504");
      assert.equal(headers["x-call-body"], "upstream request timeout");
      await quiet.arrived;
      await quiet.closed;
    } finally {
      await quick.close();
      quiet.server.closeAllConnections();
      await new Promise((r) => quiet.server.close(r));
    }
  });

  test("a call cancelled by its VM's failure stops its upstream request", async () => {
    const waiting = new AbortController();
    const pending = request(`${p.url()}/x`, {
      headers: { "x-cluster": "silent" },
      signal: waiting.signal,
    }).catch(() => undefined);
    await silent.arrived;
    // Another request traps the plugin: its VM fails and its pending callouts are cancelled (Envoy's
    // Context::~Context cancels them), which must reach the upstream exchange.
    await (await request(`${p.url()}/x`, { headers: { "x-trap": "1" } })).body.dump();
    await silent.closed;
    waiting.abort();
    await pending;
  });
});
