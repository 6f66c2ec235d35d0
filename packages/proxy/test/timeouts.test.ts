import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { regionPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { RawConnection } from "./support/raw-http.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({ region: regionPluginWat() });

const LOG_FORMAT = "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n";

/** Writes `text` a piece at a time, every `everyMs`, until `stop()` (a slowloris client). */
function trickle(c: RawConnection, pieces: string[], everyMs: number): { stop(): void } {
  let i = 0;
  const timer = setInterval(() => {
    if (c.closed || i >= pieces.length) return;
    c.write(pieces[i++]!);
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}

/** The ms since `start`, rounded. */
const since = (start: number) => Math.round(performance.now() - start);

describe("connection manager timeouts: request headers, request, stream idle, connection idle", {
  timeout: 60_000,
}, () => {
  let upstream: TestUpstream;
  let discovery: TestUpstream;
  const running: RunningTestProxy[] = [];

  before(async () => {
    upstream = await startUpstream("backend");
    // A region service that answers after a second: a plugin waiting on it holds the request.
    discovery = await startUpstream("discovery");
    discovery.server.removeAllListeners("request");
    discovery.server.on("request", (_req, res) => {
      setTimeout(() => res.end("eu"), 1000);
    });
  });

  after(async () => {
    for (const p of running) await p.close();
    await upstream?.close();
    await discovery?.close();
  });

  async function start(hcmExtra: string, options: { filters?: string; routes?: string } = {}) {
    const p = await startTestProxy(
      httpBootstrap({
        filters: options.filters,
        routes:
          options.routes ??
          `
              - match: { prefix: "/" }
                route: { cluster: backend, timeout: 0s }`,
        clusters: staticCluster("backend", upstream.port) + staticCluster("discovery", discovery.port),
        hcmExtra,
        accessLogFormat: LOG_FORMAT,
      }),
    );
    running.push(p);
    return p;
  }

  test("request_headers_timeout: a client trickling its headers gets Envoy's 408 request header timeout and the connection closes", async () => {
    const p = await start("\n          request_headers_timeout: 0.3s");
    const c = await RawConnection.open(p.port());
    const began = performance.now();
    c.write("GET /trickle HTTP/1.1\r\nhost: a\r\n");
    const slow = trickle(
      c,
      Array.from({ length: 40 }, (_, i) => `x-h${i}: ${i}\r\n`),
      100,
    );
    try {
      const reply = await c.waitClosed(5000);
      const ms = since(began);
      assert.match(reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(reply.endsWith("\r\n\r\nrequest header timeout"), reply);
      assert.ok(ms >= 250 && ms < 2000, `answered after ${ms} ms`);
    } finally {
      slow.stop();
      c.close();
    }
    assert.deepEqual(p.stdout, ["- 408 - request_header_timeout\n"]);
    const stats = await (await request(`${p.adminUrl()}/stats`)).body.text();
    assert.match(stats, /^http\.ingress_http\.downstream_rq_header_timeout: 1$/m);
  });

  test("request_timeout: a body that never completes gets 408, a received request a plugin still holds gets 504", async () => {
    const p = await start("\n          request_timeout: 0.3s\n          request_headers_timeout: 2s", {
      filters: wasmHttpFilter(plugins.path.region, { name: "region" }),
    });
    const c = await RawConnection.open(p.port());
    const began = performance.now();
    try {
      c.write("POST /upload HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc");
      const reply = await c.waitClosed(5000);
      const ms = since(began);
      assert.match(reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(reply.endsWith("\r\n\r\nrequest timeout"), reply);
      assert.ok(ms >= 250 && ms < 2000, `answered after ${ms} ms`);
    } finally {
      c.close();
    }
    // The plugin pauses the request for a callout that takes a second: the request is all there, so 504.
    const held = await request(`${p.url()}/held`);
    assert.equal(held.statusCode, 504);
    assert.equal(await held.body.text(), "request timeout");
    assert.deepEqual(p.stdout, [
      "/upload 408 - request_overall_timeout\n",
      "/held 504 - request_overall_timeout\n",
    ]);
  });

  test("stream_idle_timeout: a silent upstream gives 504 and a stalled body 408, both SI; trickled headers are cut too", async () => {
    const p = await start("\n          stream_idle_timeout: 0.3s");
    const waiting = await request(`${p.url()}/slow/3000`);
    assert.equal(waiting.statusCode, 504);
    assert.equal(await waiting.body.text(), "stream timeout");

    const stalled = await RawConnection.open(p.port());
    try {
      stalled.write("POST /stalled HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc");
      const reply = await stalled.waitClosed(5000);
      assert.match(reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(reply.endsWith("\r\n\r\nstream timeout"), reply);
    } finally {
      stalled.close();
    }

    // Header bytes do not count as stream activity in Envoy: a slowloris is cut by the idle timeout alone.
    const c = await RawConnection.open(p.port());
    c.write("GET /trickle HTTP/1.1\r\nhost: a\r\n");
    const slow = trickle(
      c,
      Array.from({ length: 40 }, (_, i) => `x-h${i}: ${i}\r\n`),
      100,
    );
    try {
      const reply = await c.waitClosed(5000);
      assert.match(reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(reply.endsWith("\r\n\r\nstream timeout"), reply);
    } finally {
      slow.stop();
      c.close();
    }
    assert.deepEqual(p.stdout, [
      "/slow/3000 504 SI stream_idle_timeout\n",
      "/stalled 408 SI stream_idle_timeout\n",
      "- 408 SI stream_idle_timeout\n",
    ]);
  });

  test("a route's idle_timeout overrides stream_idle_timeout", async () => {
    const p = await start("\n          stream_idle_timeout: 30s", {
      routes: `
              - match: { prefix: "/short" }
                route: { cluster: backend, timeout: 0s, idle_timeout: 0.2s, prefix_rewrite: "/slow/3000" }
              - match: { prefix: "/" }
                route: { cluster: backend, timeout: 0s }`,
    });
    const began = performance.now();
    const res = await request(`${p.url()}/short`);
    assert.equal(res.statusCode, 504);
    assert.equal(await res.body.text(), "stream timeout");
    assert.ok(since(began) < 2000);
  });

  test("idle_timeout closes a connection that never sent a request at once, a used one after drain_timeout, never one with a request in flight", async () => {
    const p = await start(`
          stream_idle_timeout: 0s
          drain_timeout: 0.2s
          common_http_protocol_options: { idle_timeout: 0.4s }`);
    // A request in flight for longer than the idle timeout is not cut.
    const slow = await request(`${p.url()}/slow/900`);
    assert.equal(slow.statusCode, 200);
    await slow.body.dump();

    const silent = await RawConnection.open(p.port());
    const opened = performance.now();
    await silent.waitClosed(5000);
    const silentMs = since(opened);
    assert.ok(silentMs >= 350 && silentMs < 1200, `closed after ${silentMs} ms`);

    const used = await RawConnection.open(p.port());
    used.write("GET /get HTTP/1.1\r\nhost: a\r\n\r\n");
    await used.waitFor(/"name":"backend"/);
    const answered = performance.now();
    await used.waitClosed(5000);
    // idle_timeout, then the drain sequence (drain_timeout) and the 1 s delayed close of Envoy's HTTP/1.
    const usedMs = since(answered);
    assert.ok(usedMs >= 1400 && usedMs < 3500, `closed after ${usedMs} ms`);
    const stats = await (await request(`${p.adminUrl()}/stats`)).body.text();
    assert.match(stats, /^http\.ingress_http\.downstream_cx_idle_timeout: [2-9]$/m);
  });

  test("request_headers_timeout longer than request_timeout is accepted, and the request timeout comes first", async () => {
    const p = await start("\n          request_timeout: 0.3s\n          request_headers_timeout: 5s");
    const c = await RawConnection.open(p.port());
    try {
      c.write("GET /partial HTTP/1.1\r\nhost: a\r\n");
      const reply = await c.waitClosed(5000);
      assert.match(reply, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(reply.endsWith("\r\n\r\nrequest timeout"), reply);
    } finally {
      c.close();
    }
  });
});
