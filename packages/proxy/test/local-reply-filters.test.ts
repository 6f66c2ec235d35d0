/**
 * Local replies (a plugin's own, the router's direct_response) through the response filters, as Envoy runs
 * them: filter_manager.cc sendLocalReplyViaFilterChain, http/utility.cc prepareLocalReply, and the
 * connection manager's `server` / `date` after the filters (conn_manager_impl.cc ActiveStream::encodeHeaders).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

/** WAT string literal of raw bytes. */
function wat(bytes: Uint8Array): string {
  return [...bytes]
    .map((b) =>
      b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c
        ? `\\${b.toString(16).padStart(2, "0")}`
        : String.fromCharCode(b),
    )
    .join("");
}

/** Proxy-Wasm header pairs serialization (count, sizes, NUL-terminated names and values). */
function pairs(list: Array<[string, string]>): Uint8Array {
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff);
  u32(list.length);
  for (const [n, v] of list) {
    u32(n.length);
    u32(v.length);
  }
  for (const [n, v] of list) parts.push(...Buffer.from(n), 0, ...Buffer.from(v), 0);
  return Uint8Array.from(parts);
}

/**
 * Records in response header `seenHeader` the response headers it was shown (names and values joined by
 * ","), and logs each response body it is shown. With `deny`, a request carrying `x-deny` is answered 403
 * "denied" with the extra header `x-plugin: yes`.
 */
function observerWat(seenHeader: string, deny: boolean): string {
  const extra = pairs([["x-plugin", "yes"]]);
  return `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $get_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "x-deny")
  (data (i32.const 32) "denied")
  (data (i32.const 48) "${seenHeader}")
  (data (i32.const 128) "${wat(extra)}")
  (global $heap (mut i32) (i32.const 65536))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    ${
      deny
        ? `(if (i32.eqz (call $get_header (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 1000) (i32.const 1004)))
      (then
        (drop (call $local_response (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 32) (i32.const 6)
          (i32.const 128) (i32.const ${extra.length}) (i32.const -1)))
        (return (i32.const 1))))`
        : ""
    }
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (local $ptr i32) (local $start i32) (local $end i32) (local $i i32)
    (drop (call $get_pairs (i32.const 2) (i32.const 1000) (i32.const 1004)))
    (local.set $ptr (i32.load (i32.const 1000)))
    (local.set $end (i32.add (local.get $ptr) (i32.load (i32.const 1004))))
    (local.set $start (i32.add (i32.add (local.get $ptr) (i32.const 4)) (i32.mul (i32.load (local.get $ptr)) (i32.const 8))))
    (local.set $i (local.get $start))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (if (i32.eqz (i32.load8_u (local.get $i))) (then (i32.store8 (local.get $i) (i32.const 44))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (drop (call $replace (i32.const 2) (i32.const 48) (i32.const ${seenHeader.length}) (local.get $start)
      (i32.sub (i32.sub (local.get $end) (local.get $start)) (i32.const 1))))
    (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get_buffer (i32.const 1) (i32.const 0) (local.get 1) (i32.const 1000) (i32.const 1004)))
      (then (drop (call $log (i32.const 2) (i32.load (i32.const 1000)) (i32.load (i32.const 1004))))))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))
)`;
}

const plugins = writePlugins({
  denier: observerWat("x-seen-a", true),
  observer: observerWat("x-seen-b", false),
});

const ROUTES = `
              - match: { prefix: "/empty" }
                direct_response: { status: 403 }
              - match: { prefix: "/direct-with-headers" }
                direct_response: { status: 200, body: { inline_string: "hello" } }
                response_headers_to_add: [{ header: { key: x-route, value: direct } }]
              - match: { prefix: "/direct" }
                direct_response: { status: 200, body: { inline_string: "hello" } }
              - match: { prefix: "/" }
                route: { cluster: backend }`;

describe("local replies through the response filters", { timeout: 30_000 }, () => {
  let upstream: TestUpstream;
  let denierFirst: RunningTestProxy;
  let observerFirst: RunningTestProxy;

  before(async () => {
    upstream = await startUpstream("backend");
    const clusters = staticCluster("backend", upstream.port);
    denierFirst = await startTestProxy(
      httpBootstrap({
        filters:
          wasmHttpFilter(plugins.path.denier, { name: "denier" }) +
          wasmHttpFilter(plugins.path.observer, { name: "observer" }),
        routes: ROUTES,
        clusters,
        accessLog: false,
        admin: false,
      }),
    );
    observerFirst = await startTestProxy(
      httpBootstrap({
        filters:
          wasmHttpFilter(plugins.path.observer, { name: "observer" }) +
          wasmHttpFilter(plugins.path.denier, { name: "denier" }),
        routes: ROUTES,
        clusters,
        accessLog: false,
        admin: false,
      }),
    );
  });

  after(async () => {
    await denierFirst?.close();
    await observerFirst?.close();
    await upstream?.close();
  });

  test("a plugin's own local reply passes through its on_response_headers and on_response_body", async () => {
    const res = await request(`${denierFirst.url()}/x`, { headers: { "x-deny": "1" } });
    assert.equal(res.statusCode, 403);
    assert.equal(await res.body.text(), "denied");
    assert.equal(
      res.headers["x-seen-a"],
      ":status,403,x-plugin,yes,content-length,6,content-type,text/plain",
    );
    assert.ok(
      denierFirst.stderr.some((l) => l.includes("wasm log denier denier: denied")),
      denierFirst.stderr.join("\n"),
    );
  });

  test("a later Wasm filter that never saw the request headers is not shown the local reply", async () => {
    const res = await request(`${denierFirst.url()}/x`, { headers: { "x-deny": "1" } });
    await res.body.text();
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers["x-seen-b"], undefined);
  });

  test("an earlier Wasm filter sees a later filter's local reply", async () => {
    const res = await request(`${observerFirst.url()}/x`, { headers: { "x-deny": "1" } });
    assert.equal(await res.body.text(), "denied");
    assert.equal(
      res.headers["x-seen-a"],
      ":status,403,x-plugin,yes,content-length,6,content-type,text/plain",
    );
    assert.ok(String(res.headers["x-seen-b"]).startsWith(":status,403,x-plugin,yes,content-length,6,"));
  });

  test("direct_response headers reach the plugin as :status, content-length, content-type, without server or date", async () => {
    const res = await request(`${denierFirst.url()}/direct`);
    assert.equal(await res.body.text(), "hello");
    // The observer (later in the chain) ran first on the response and added its own header.
    assert.equal(res.headers["x-seen-b"], ":status,200,content-length,5,content-type,text/plain");
    // The connection manager adds them after the filters.
    assert.equal(res.headers.server, "envoy");
    assert.ok(res.headers.date);
  });

  test("a direct_response route's response_headers_to_add reach the plugin after :status, before content-length", async () => {
    const res = await request(`${denierFirst.url()}/direct-with-headers`);
    assert.equal(await res.body.text(), "hello");
    assert.equal(res.headers["x-route"], "direct");
    assert.equal(
      res.headers["x-seen-b"],
      ":status,200,x-route,direct,content-length,5,content-type,text/plain",
    );
  });

  test("an empty local reply reaches the plugin with no content-length or content-type, and the HTTP/1 client gets content-length: 0", async () => {
    const res = await request(`${denierFirst.url()}/empty`);
    assert.equal(await res.body.text(), "");
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers["x-seen-b"], ":status,403");
    assert.equal(res.headers["content-length"], "0");
    assert.equal(res.headers["transfer-encoding"], undefined);
  });

  test("plugins see the upstream's own server header, which the client gets as Envoy's", async () => {
    const res = await request(`${denierFirst.url()}/echo`);
    await res.body.text();
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["x-seen-b"]), /,server,test-upstream,/);
    assert.doesNotMatch(String(res.headers["x-seen-b"]), /server,envoy/);
    assert.equal(res.headers.server, "envoy");
  });
});
