import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { headerPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { RawConnection } from "./support/raw-http.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({ header: headerPluginWat() });

const LOG_FORMAT =
  "%REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n";

/** One request on its own connection; resolves with everything the proxy sent until it closed. */
async function exchange(port: number, text: string): Promise<string> {
  const c = await RawConnection.open(port);
  try {
    c.write(text);
    return await c.waitClosed();
  } finally {
    c.close();
  }
}

describe("Host and the request-target, as Envoy's HTTP/1 codec and connection manager read them", {
  timeout: 30_000,
}, () => {
  let upstream: TestUpstream;
  let p: RunningTestProxy;
  let strict: RunningTestProxy;

  before(async () => {
    upstream = await startUpstream("backend");
    const routes = `
              - match: { prefix: "/" }
                route: { cluster: backend }`;
    p = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.header, { name: "headers" }),
        routes,
        clusters: staticCluster("backend", upstream.port),
        accessLogFormat: LOG_FORMAT,
        hcmExtra: `
          http_protocol_options: { accept_http_10: true, default_host_for_http_10: fallback.example }`,
      }),
    );
    strict = await startTestProxy(
      httpBootstrap({
        routes,
        clusters: staticCluster("backend", upstream.port),
        accessLogFormat: LOG_FORMAT,
        hcmExtra: `
          http_protocol_options: { allow_absolute_url: false }`,
      }),
    );
  });

  after(async () => {
    await p?.close();
    await strict?.close();
    await upstream?.close();
  });

  test("an HTTP/1.1 request without Host gets Envoy's 400 missing_host_header before any plugin or upstream, and the connection stays usable", async () => {
    const seen = upstream.seen.length;
    const pluginLines = p.stderr.length;
    const c = await RawConnection.open(p.port());
    try {
      c.write("GET /no-host HTTP/1.1\r\n\r\n");
      const reply = await c.waitFor(/\r\n\r\n/);
      assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(reply, /\r\ncontent-length: 0\r\n/);
      assert.match(reply, /\r\nserver: envoy\r\n/);
      c.write("GET /after HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n");
      const all = await c.waitClosed();
      assert.match(all, /\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    } finally {
      c.close();
    }
    assert.equal(upstream.seen.length, seen + 1, "only /after reached the upstream");
    assert.equal(upstream.seen.at(-1)?.url, "/after");
    assert.equal(p.stdout[0], "GET /no-host - 400 - missing_host_header\n");
    // The plugin logs each request it sees: it saw /after only.
    assert.equal(p.stderr.slice(pluginLines).filter((l) => /header plugin saw a request/.test(l)).length, 1);
  });

  test("an absolute-form URI gives the authority (the Host header is ignored) and the path part", async () => {
    const reply = await exchange(
      p.port(),
      "GET http://Example.com:8080/path/x?q=1 HTTP/1.1\r\nhost: other.example\r\nconnection: close\r\n\r\n",
    );
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.url, "/path/x?q=1");
    assert.equal(seen.headers.host, "Example.com:8080");
    assert.ok(p.stdout.includes("GET /path/x?q=1 Example.com:8080 200 - via_upstream\n"), p.stdout.join(""));

    await exchange(p.port(), "GET https://secure.example HTTP/1.1\r\nconnection: close\r\n\r\n");
    assert.equal(upstream.seen.at(-1)!.url, "/", "no path part means /");
    assert.equal(upstream.seen.at(-1)!.headers.host, "secure.example");
  });

  test("an absolute URI the codec cannot read gets its 400 with DPE and the connection closes", async () => {
    const noHost = await exchange(p.port(), "GET http://:80/x HTTP/1.1\r\nhost: a\r\n\r\n");
    assert.match(noHost, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(noHost.endsWith("\r\n\r\nBad Request"), noHost);
    const ftp = await exchange(p.port(), "GET ftp://files.example/x HTTP/1.1\r\nhost: a\r\n\r\n");
    assert.match(ftp, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(p.stdout.includes("GET http://:80/x a 400 DPE http1.invalid_url\n"), p.stdout.join(""));
    assert.ok(
      p.stdout.includes("GET ftp://files.example/x a 400 DPE http1.invalid_scheme\n"),
      p.stdout.join(""),
    );
  });

  test("a path that is not relative gets Envoy's 404 absolute_path: OPTIONS *, and absolute URIs without allow_absolute_url", async () => {
    const options = await exchange(p.port(), "OPTIONS * HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n");
    assert.match(options, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.ok(p.stdout.includes("OPTIONS * a 404 - absolute_path\n"), p.stdout.join(""));
    const absolute = await exchange(
      strict.port(),
      "GET http://example.com/path HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    );
    assert.match(absolute, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.ok(
      strict.stdout.includes("GET http://example.com/path a 404 - absolute_path\n"),
      strict.stdout.join(""),
    );
  });

  test("an HTTP/1.0 request without Host gets default_host_for_http_10", async () => {
    const reply = await exchange(p.port(), "GET /old HTTP/1.0\r\n\r\n");
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(upstream.seen.at(-1)!.headers.host, "fallback.example");
  });
});
