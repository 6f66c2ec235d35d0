import assert from "node:assert/strict";
import {
  createServer as createH2Server,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
} from "node:http2";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { after, before, describe, test } from "node:test";
import { httpBootstrap } from "@proxy-wasm-ts/test-support/envoy-config";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { makeCertificates } from "./support/tls.ts";

const certs = makeCertificates("backend.test");

function cluster(name: string, port: number, extra: string): string {
  return `
  - name: ${name}
    connect_timeout: 1s
    type: LOGICAL_DNS
    dns_lookup_family: V4_ONLY
    load_assignment:
      cluster_name: ${name}
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: localhost, port_value: ${port} } } } }] }]${extra}`;
}

function tls(sni: string, ca?: string, alpn = ""): string {
  return `
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: ${sni}
        common_tls_context:${alpn}
          ${ca ? `validation_context: { trusted_ca: { filename: ${ca} } }` : ""}`;
}

const H2 = `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`;

describe("upstream protocols: TLS with sni and a trusted CA, HTTP/2", { timeout: 60_000 }, () => {
  let https: HttpsServer;
  let h2c: Http2Server;
  let h2tls: Http2SecureServer;
  let p: RunningTestProxy;
  const seenSni: string[] = [];

  before(async () => {
    https = createHttpsServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ via: "https", host: req.headers.host, url: req.url }));
    });
    https.on("secureConnection", (s) => seenSni.push((s as unknown as { servername: string }).servername));
    h2c = createH2Server((req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({ via: `h2c ${req.httpVersion}`, authority: req.headers[":authority"], url: req.url }),
      );
    });
    h2tls = createSecureServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      res.end(JSON.stringify({ via: `h2 ${req.httpVersion}` }));
    });
    const listen = (s: { listen: (port: number, host: string, cb: () => void) => unknown }) =>
      new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    await Promise.all([listen(https), listen(h2c), listen(h2tls)]);
    const port = (s: { address: () => unknown }) => (s.address() as { port: number }).port;
    p = await startTestProxy(
      httpBootstrap({
        routes: `
              - match: { prefix: "/tls" }
                route: { cluster: secure, host_rewrite_literal: backend.test }
              - match: { prefix: "/untrusted" }
                route: { cluster: wrong_ca }
              - match: { prefix: "/h2c" }
                route: { cluster: plain_h2 }
              - match: { prefix: "/h2tls" }
                route: { cluster: secure_h2 }`,
        clusters:
          cluster("secure", port(https), tls("backend.test", certs.caFile)) +
          cluster("wrong_ca", port(https), tls("backend.test", `${certs.dir}/server.pem`)) +
          cluster("plain_h2", port(h2c), H2) +
          cluster("secure_h2", port(h2tls), tls("backend.test", certs.caFile) + H2),
      }),
    );
  });

  after(async () => {
    await p?.close();
    https?.closeAllConnections();
    https?.close();
    h2c?.close();
    h2tls?.close();
  });

  test("TLS upstream: sni sent, chain checked against trusted_ca, host rewritten", async () => {
    const res = await request(`${p.url()}/tls/x`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { via: "https", host: "backend.test", url: "/tls/x" });
    assert.ok(seenSni.includes("backend.test"));
  });

  test("a certificate the trusted CA did not sign fails with UF and Envoy's TLS reason", async () => {
    const res = await request(`${p.url()}/untrusted`);
    assert.equal(res.statusCode, 503);
    assert.match(
      await res.body.text(),
      /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure, transport failure reason: TLS_error:/,
    );
  });

  test("HTTP/2 upstreams, cleartext and over TLS", async () => {
    const res = await request(`${p.url()}/h2c/y`);
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as { via: string; url: string };
    assert.equal(body.via, "h2c 2.0");
    assert.equal(body.url, "/h2c/y");
    const secure = await request(`${p.url()}/h2tls`);
    assert.equal(((await secure.body.json()) as { via: string }).via, "h2 2.0");
  });
});
