/** On a TLS listener, an HTTP/1.1 request's :scheme and x-forwarded-proto say https, as in Envoy. */
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { after, before, test } from "node:test";
import { staticCluster } from "@proxy-wasm-ts/test-support/envoy-config";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { makeCertificates, type TestCertificates } from "./support/tls.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

let cert: TestCertificates;
let upstream: TestUpstream;
let proxy: RunningTestProxy | undefined;

before(async () => {
  cert = makeCertificates("a.test");
  upstream = await startUpstream("echo");
});
after(async () => {
  await proxy?.close();
  await upstream?.close();
});

test("an HTTP/1.1 request on a TLS listener goes upstream with x-forwarded-proto https", async () => {
  proxy = await startTestProxy(`
static_resources:
  listeners:
  - name: edge
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificates:
            - certificate_chain: { filename: ${cert.dir}/server.pem }
              private_key: { inline_string: ${JSON.stringify(cert.key)} }
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: tls
          use_remote_address: true
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{ match: { prefix: "/" }, route: { cluster: echo } }]
          http_filters: [{ name: envoy.filters.http.router }]
  clusters:${staticCluster("echo", upstream.port)}
`);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port: proxy!.port(), servername: "a.test", ca: cert.ca, path: "/", agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
  assert.equal(status, 200);
  assert.equal(upstream.seen.at(-1)?.headers["x-forwarded-proto"], "https");
});
