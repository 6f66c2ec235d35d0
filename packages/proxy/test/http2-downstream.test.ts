import assert from "node:assert/strict";
import {
  type ClientHttp2Session,
  connect,
  constants,
  createServer as createH2Server,
  type Http2Server,
  type IncomingHttpHeaders,
} from "node:http2";
import { connect as netConnect } from "node:net";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { trailersPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { RawConnection } from "./support/raw-http.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const H2_CLUSTER = `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`;

interface H2Response {
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | undefined;
  /** The response was one HEADERS frame with END_STREAM. */
  endAfterHeaders: boolean;
}

/** One HTTP/2 request (prior knowledge) with optional body and trailers. */
function h2Request(
  session: ClientHttp2Session,
  headers: Record<string, string>,
  body?: string,
  trailers?: Record<string, string>,
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, {
      endStream: body === undefined,
      waitForTrailers: trailers !== undefined,
    });
    if (trailers) stream.on("wantTrailers", () => stream.sendTrailers(trailers));
    let responseHeaders: IncomingHttpHeaders = {};
    let responseTrailers: IncomingHttpHeaders | undefined;
    let endAfterHeaders = false;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      responseHeaders = h;
      endAfterHeaders = stream.endAfterHeaders;
    });
    stream.on("trailers", (t) => {
      responseTrailers = t;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () =>
      resolve({
        headers: responseHeaders,
        body: Buffer.concat(chunks).toString("utf8"),
        trailers: responseTrailers,
        endAfterHeaders,
      }),
    );
    stream.on("error", reject);
    if (body !== undefined) stream.end(body);
  });
}

function h2Connect(url: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(url);
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

describe("HTTP/2 downstream (h2c) and trailers", { timeout: 60_000 }, () => {
  let upstream: TestUpstream;
  let h2Upstream: Http2Server;
  let h2Port = 0;
  const seenTrailers: IncomingHttpHeaders[] = [];
  const seenH2Headers: IncomingHttpHeaders[] = [];
  let auto: RunningTestProxy;
  let http1Only: RunningTestProxy;
  let http2Only: RunningTestProxy;
  let http1Trailers: RunningTestProxy;
  const plugins = writePlugins({ trailers: trailersPluginWat(), buffering: trailersPluginWat(true) });

  before(async () => {
    upstream = await startUpstream("h1");
    // An HTTP/2 upstream that records request trailers and ends its response with trailers.
    h2Upstream = createH2Server();
    h2Upstream.on("stream", (stream, headers) => {
      seenH2Headers.push(headers);
      stream.on("trailers", (t) => seenTrailers.push(t));
      stream.resume();
      stream.on("end", () => {
        stream.respond({ ":status": 200, "content-type": "text/plain" }, { waitForTrailers: true });
        stream.on("wantTrailers", () =>
          stream.sendTrailers({ "grpc-status": "0", "x-upstream-trailer": "up" }),
        );
        stream.end(`h2 upstream saw ${headers[":path"]}`);
      });
    });
    await new Promise<void>((resolve) => h2Upstream.listen(0, "127.0.0.1", resolve));
    h2Port = (h2Upstream.address() as { port: number }).port;
    const routes = `
              - match: { prefix: "/h2/" }
                route: { cluster: h2 }
              - match: { prefix: "/" }
                route: { cluster: h1 }`;
    const clusters =
      staticCluster("h1", upstream.port) + staticCluster("h2", h2Port, "127.0.0.1", H2_CLUSTER);
    auto = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.trailers, { name: "trailers" }),
        routes,
        clusters,
        accessLogFormat:
          "%PROTOCOL% %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n",
      }),
    );
    http1Only = await startTestProxy(
      httpBootstrap({ routes, clusters, hcmExtra: "\n          codec_type: HTTP1", admin: false }),
    );
    http1Trailers = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.trailers, { name: "trailers" }),
        routes,
        clusters,
        hcmExtra: "\n          http_protocol_options: { enable_trailers: true }",
        admin: false,
      }),
    );
    http2Only = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.buffering, { name: "buffering" }),
        routes,
        clusters,
        hcmExtra:
          "\n          codec_type: HTTP2\n          http2_protocol_options: { max_concurrent_streams: 100 }",
        admin: false,
      }),
    );
  });

  after(async () => {
    await auto?.close();
    await http1Only?.close();
    await http2Only?.close();
    await http1Trailers?.close();
    await upstream?.close();
    h2Upstream?.close();
  });

  test("codec_type AUTO serves HTTP/1.1 and prior-knowledge HTTP/2 on one port; the plugin sees the pseudo-headers and request.protocol HTTP/2", async () => {
    const h1 = await fetch(`${auto.url()}/over-h1`);
    assert.equal(h1.status, 200);
    const h1Seen = (await h1.json()) as { headers: Record<string, string> };
    assert.equal(h1Seen.headers["x-seen-protocol"], "HTTP/1.1");

    const session = await h2Connect(auto.url());
    try {
      const r = await h2Request(session, {
        ":method": "GET",
        ":path": "/over-h2?q=1",
        ":authority": "example.test",
      });
      assert.equal(r.headers[":status"], 200);
      assert.equal(r.headers.server, "envoy");
      assert.ok(r.headers.date);
      const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
      assert.equal(seen.url, "/over-h2?q=1");
      assert.equal(seen.headers.host, "example.test");
      assert.equal(seen.headers["x-seen-protocol"], "HTTP/2");
      assert.equal(seen.headers["x-seen-scheme"], "http");
      assert.equal(seen.headers["x-seen-authority"], "example.test");
      assert.equal(seen.headers["x-seen-method"], "GET");
      assert.equal(seen.headers["x-seen-path"], "/over-h2?q=1");
      // Several streams on one connection.
      const both = await Promise.all([
        h2Request(session, { ":method": "POST", ":path": "/a", ":authority": "example.test" }, "one"),
        h2Request(session, { ":method": "POST", ":path": "/b", ":authority": "example.test" }, "two"),
      ]);
      assert.deepEqual(
        both.map((x) => (JSON.parse(x.body) as { body: string }).body),
        ["one", "two"],
      );
    } finally {
      session.close();
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      auto.stdout.some((l) => l.startsWith("HTTP/2 GET /over-h2?q=1 200 - via_upstream")),
      auto.stdout.join(""),
    );
    assert.ok(auto.stdout.some((l) => l.startsWith("HTTP/1.1 GET /over-h1 200")));
    const stats = await (await fetch(`${auto.adminUrl()}/stats?filter=downstream_rq_http`)).text();
    assert.match(stats, /http\.ingress_http\.downstream_rq_http2_total: 3/);
  });

  test("an HTTP/2 request with Expect: 100-continue gets the connection manager's own 100, as over HTTP/1.1", async () => {
    const session = await h2Connect(auto.url());
    try {
      const continued = await new Promise<string>((resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": "/expect",
          ":authority": "x",
          expect: "100-continue",
        });
        const chunks: Buffer[] = [];
        stream.on("continue", () => stream.end("after continue"));
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => resolve(Buffer.concat(chunks).toString()));
        stream.on("error", reject);
      });
      const seen = JSON.parse(continued) as { body: string; headers: Record<string, string> };
      assert.equal(seen.body, "after continue");
      assert.equal(seen.headers.expect, undefined);
    } finally {
      session.close();
    }
  });

  test("drain sends GOAWAY: a stream in flight finishes, the connection then closes", async () => {
    const p = await startTestProxy(
      httpBootstrap({
        routes: `
              - match: { prefix: "/" }
                route: { cluster: h1 }`,
        clusters: staticCluster("h1", upstream.port),
        admin: false,
      }),
    );
    const session = await h2Connect(p.url());
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
    try {
      const inFlight = h2Request(session, { ":method": "GET", ":path": "/slow/300", ":authority": "x" });
      await new Promise((r) => setTimeout(r, 100));
      const drained = p.proxy.drain(5000);
      await goaway;
      const r = await inFlight;
      assert.equal(r.headers[":status"], 200);
      assert.match(r.body, /"url":"\/slow\/300"/);
      await drained;
      await closed;
    } finally {
      session.destroy();
      await p.close();
    }
  });

  test("an idle HTTP/2 connection gets the shutdown GOAWAY at idle_timeout, then closes after drain_timeout", async () => {
    const p = await startTestProxy(
      httpBootstrap({
        routes: `
              - match: { prefix: "/" }
                route: { cluster: h1 }`,
        clusters: staticCluster("h1", upstream.port),
        hcmExtra:
          "\n          common_http_protocol_options: { idle_timeout: 0.2s }\n          drain_timeout: 0.3s",
      }),
    );
    const session = await h2Connect(p.url());
    try {
      const started = performance.now();
      const goaway = new Promise<number>((resolve) =>
        session.once("goaway", (_code: number, lastStreamId: number) => resolve(lastStreamId)),
      );
      const closed = new Promise<number>((resolve) =>
        session.once("close", () => resolve(performance.now())),
      );
      const r = await h2Request(session, { ":method": "GET", ":path": "/before-idle", ":authority": "x" });
      assert.equal(r.headers[":status"], 200);
      assert.equal(await goaway, 2 ** 31 - 1);
      const closedAt = await closed;
      assert.ok(closedAt - started >= 450, `closed after ${closedAt - started} ms`);
      const stats = await (await fetch(`${p.adminUrl()}/stats?filter=idle_timeout`)).text();
      assert.match(stats, /downstream_cx_idle_timeout: 1/);
    } finally {
      session.destroy();
      await p.close();
    }
  });

  test("an HTTP/2 request over max_headers_count is reset by the codec and logged DPE http2.too_many_headers", async () => {
    const session = await h2Connect(auto.url());
    try {
      const headers: Record<string, string> = { ":method": "GET", ":path": "/too-many", ":authority": "x" };
      for (let i = 0; i < 97; i++) headers[`x-h${i}`] = "v";
      const code = await new Promise<number>((resolve) => {
        const stream = session.request(headers);
        stream.on("error", () => {});
        stream.on("close", () => resolve(stream.rstCode ?? -1));
        stream.resume();
      });
      assert.equal(code, constants.NGHTTP2_INTERNAL_ERROR);
      // 100 entries (pseudo-headers included) are still fine.
      delete headers["x-h96"];
      const ok = await h2Request(session, headers);
      assert.equal(ok.headers[":status"], 200);
    } finally {
      session.close();
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.match(auto.stdout.join(""), /^HTTP\/2 GET \/too-many 0 DPE http2\.too_many_headers$/m);
    const stats = await (await fetch(`${auto.adminUrl()}/stats?filter=header_overflow`)).text();
    assert.match(stats, /http2\.header_overflow: 1/);
  });

  test("a client's RST_STREAM is logged DR http2.remote_reset; a client that drops the connection, DC", async () => {
    const rxResets = async () => {
      const stats = await (await fetch(`${auto.adminUrl()}/stats?filter=downstream_rq_rx_reset`)).text();
      return Number(/downstream_rq_rx_reset: (\d+)/.exec(stats)?.[1] ?? 0);
    };
    const resetsBefore = await rxResets();
    const session = await h2Connect(auto.url());
    const reset = session.request({ ":path": "/slow/400", ":authority": "x" });
    reset.on("error", () => {});
    reset.resume();
    await new Promise((r) => setTimeout(r, 60));
    reset.close(constants.NGHTTP2_CANCEL);
    const dropped = await h2Connect(auto.url());
    const lost = dropped.request({ ":path": "/slow/401", ":authority": "x" });
    lost.on("error", () => {});
    lost.resume();
    await new Promise((r) => setTimeout(r, 60));
    dropped.destroy();
    await new Promise((r) => setTimeout(r, 150));
    session.close();
    const lines = auto.stdout.join("");
    assert.match(lines, /^HTTP\/2 GET \/slow\/400 0 DR http2\.remote_reset$/m);
    assert.match(lines, /^HTTP\/2 GET \/slow\/401 0 DC downstream_remote_disconnect$/m);
    assert.equal((await rxResets()) - resetsBefore, 1);
  });

  test("an HTTP/1.1 request asking to upgrade to h2c is served over HTTP/1.1 without the upgrade headers", async () => {
    const c = await RawConnection.open(auto.port());
    try {
      c.write(
        "GET /h2c-upgrade HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\n" +
          "http2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
      );
      const text = await c.waitFor(/\r\n0\r\n\r\n$/);
      assert.match(text, /^HTTP\/1\.1 200 /);
      const json = text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1);
      const seen = JSON.parse(json) as { headers: Record<string, string> };
      assert.equal(seen.headers.upgrade, undefined);
      assert.equal(seen.headers["http2-settings"], undefined);
      assert.equal(seen.headers["x-seen-protocol"], "HTTP/1.1");
    } finally {
      c.close();
    }
  });

  test("with codec_type AUTO a connection reset before its first byte does not take the listener down", async () => {
    const socket = netConnect(auto.port(), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${auto.url()}/still-up`);
    assert.equal(res.status, 200);
  });

  test("codec_type HTTP1 refuses the HTTP/2 preface; codec_type HTTP2 speaks only HTTP/2", async () => {
    const viaH1 = await fetch(`${http1Only.url()}/ok`);
    assert.equal(viaH1.status, 200);
    await assert.rejects(async () => {
      const s = await h2Connect(http1Only.url());
      try {
        await h2Request(s, { ":method": "GET", ":path": "/", ":authority": "x" });
      } finally {
        s.destroy();
      }
    });
    await assert.rejects(fetch(`${http2Only.url()}/nope`));
    const s = await h2Connect(http2Only.url());
    try {
      const r = await h2Request(s, { ":method": "GET", ":path": "/only-h2", ":authority": "x" });
      assert.equal(r.headers[":status"], 200);
    } finally {
      s.close();
    }
  });

  test("trailers pass both ways through the plugin's trailer callbacks over HTTP/2", async () => {
    seenTrailers.length = 0;
    const session = await h2Connect(auto.url());
    try {
      const r = await h2Request(
        session,
        { ":method": "POST", ":path": "/h2/echo", ":authority": "example.test", te: "trailers" },
        "request body",
        { "x-client-trailer": "from-client" },
      );
      assert.equal(r.headers[":status"], 200);
      assert.equal(r.body, "h2 upstream saw /h2/echo");
      assert.equal(r.trailers?.["grpc-status"], "0");
      assert.equal(r.trailers?.["x-upstream-trailer"], "up");
      assert.equal(r.trailers?.["x-seen-grpc-status"], "0");
      assert.equal(r.trailers?.["x-plugin-response-trailer"], "resp");
    } finally {
      session.close();
    }
    assert.equal(seenTrailers.length, 1);
    // te: trailers is the one hop-by-hop header that goes upstream.
    assert.equal(seenH2Headers.at(-1)?.te, "trailers");
    assert.equal(seenTrailers[0]!["x-client-trailer"], "from-client");
    assert.equal(seenTrailers[0]!["x-seen-client-trailer"], "from-client");
    assert.equal(seenTrailers[0]!["x-plugin-request-trailer"], "req");
  });

  test("HTTP/1.1 chunked trailers pass both ways through the plugin only with http_protocol_options.enable_trailers", async () => {
    const request =
      "POST /h2/chunked HTTP/1.1\r\nhost: example.test\r\ntransfer-encoding: chunked\r\nte: trailers\r\n\r\n" +
      "5\r\nhello\r\n0\r\nx-client-trailer: from-h1\r\n\r\n";
    seenTrailers.length = 0;
    const on = await RawConnection.open(http1Trailers.port());
    try {
      on.write(request);
      const text = await on.waitFor(/\r\n0\r\n[\s\S]*\r\n\r\n$/);
      assert.match(text, /^HTTP\/1\.1 200 /);
      assert.match(text, /transfer-encoding: chunked/i);
      assert.match(text, /\r\n0\r\n[\s\S]*x-upstream-trailer: up\r\n/);
      assert.match(text, /\r\n0\r\n[\s\S]*x-plugin-response-trailer: resp\r\n/);
    } finally {
      on.close();
    }
    assert.equal(seenTrailers[0]?.["x-client-trailer"], "from-h1");
    assert.equal(seenTrailers[0]?.["x-seen-client-trailer"], "from-h1");
    // Envoy's default: the HTTP/1 codec drops trailers both ways.
    seenTrailers.length = 0;
    const off = await RawConnection.open(auto.port());
    try {
      off.write(request);
      const text = await off.waitFor(/\r\n0\r\n\r\n$/);
      assert.doesNotMatch(text, /x-upstream-trailer/);
    } finally {
      off.close();
    }
    assert.equal(seenTrailers[0]?.["x-client-trailer"], undefined);
  });

  test("a body the plugin buffers until the trailers goes out with them", async () => {
    const session = await h2Connect(http2Only.url());
    try {
      const r = await h2Request(session, { ":method": "GET", ":path": "/h2/buffered", ":authority": "x" });
      assert.equal(r.body, "h2 upstream saw /h2/buffered");
      assert.equal(r.trailers?.["x-upstream-trailer"], "up");
      assert.equal(r.trailers?.["x-plugin-response-trailer"], "resp");
    } finally {
      session.close();
    }
  });
});
