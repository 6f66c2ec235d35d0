/**
 * `pwts run` with bootstraps shaped like the seed documents: seed 003 (TypedStruct-wrapped HTTP Wasm filter
 * with a StringValue configuration, direct_response, a callout to an ingestion cluster from on_done, node
 * metadata) and seed 002 (pause + discovery callout + `cluster_header: region` routing to a TLS cluster).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { after, before, describe, test } from "node:test";
import { observerPluginWat, regionPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { type PwtsProcess, startPwts } from "./support/pwts-process.ts";
import { makeCertificates } from "./support/tls.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({ observer: observerPluginWat(), region: regionPluginWat() });
const certs = makeCertificates("us-east1.example");

function listen<T extends Server | HttpsServer>(server: T): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
}

describe("pwts run with seed-shaped configs", { timeout: 240_000 }, () => {
  let echo: TestUpstream;
  let central: TestUpstream;
  let ingestion: Server;
  let discovery: Server;
  let east: HttpsServer;
  const events: string[] = [];
  let pwts: PwtsProcess;

  before(async () => {
    echo = await startUpstream("echo");
    central = await startUpstream("us_central1");
    ingestion = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        events.push(`${req.method} ${req.url} ${body}`);
        res.end();
      });
    });
    discovery = createServer((_req, res) => res.end("us_east1"));
    east = createHttpsServer({ cert: certs.cert, key: certs.key }, (req, res) =>
      res.end(
        JSON.stringify({ region: "us_east1", host: req.headers.host, regionHeader: req.headers.region }),
      ),
    );
    const [ingestionPort, discoveryPort, eastPort] = await Promise.all([
      listen(ingestion),
      listen(discovery),
      listen(east),
    ]);
    const endpoint = (name: string, host: string, port: number) => `
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: ${host}, port_value: ${port} }`;
    const yaml = `
node:
  id: web-7d9f.default
  cluster: web
  metadata: { NAME: web-7d9f, NAMESPACE: default }
static_resources:
  listeners:
  - name: observer
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          codec_type: AUTO
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /dev/stdout
          route_config:
            name: local_routes
            virtual_hosts:
            - name: namaste
              domains: ["namaste"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "Namaste world!" } }
            - name: local_service
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: echo }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/udpa.type.v1.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              value:
                config:
                  name: "httpfilter"
                  root_id: "httpfilter"
                  configuration:
                    "@type": "type.googleapis.com/google.protobuf.StringValue"
                    value: |
                      { "upstream_name": "ingestion-service", "authority": "ingestion-service", "path": "/api/v1/events" }
                  vm_config:
                    runtime: "envoy.wasm.runtime.v8"
                    code: { local: { filename: "${plugins.path.observer}" } }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  - name: regional
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: regional
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format:
                text_format_source:
                  inline_string: "regional %REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_CLUSTER% %PROTOCOL%\\n"
          route_config:
            name: local_route
            virtual_hosts:
            - name: backend
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route:
                  cluster_header: region
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: regional_router
                root_id: regional_router
                vm_config:
                  vm_id: regional
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: "${plugins.path.region}" } }
          - name: envoy.filters.http.router
  clusters:
  - name: echo
    connect_timeout: 1s
    type: STATIC
    load_assignment:${endpoint("echo", "127.0.0.1", echo.port)}
  - name: ingestion-service
    connect_timeout: 1s
    type: STRICT_DNS
    load_assignment:${endpoint("ingestion-service", "localhost", ingestionPort)}
  - name: us_east1
    connect_timeout: 5s
    type: LOGICAL_DNS
    dns_lookup_family: V4_ONLY
    load_assignment:${endpoint("us_east1", "localhost", eastPort)}
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: us-east1.example
        common_tls_context:
          validation_context: { trusted_ca: { filename: ${certs.caFile} } }
  - name: us_central1
    connect_timeout: 5s
    type: LOGICAL_DNS
    dns_lookup_family: V4_ONLY
    load_assignment:${endpoint("us_central1", "localhost", central.port)}
  - name: discovery
    connect_timeout: 30s
    type: LOGICAL_DNS
    dns_lookup_family: V4_ONLY
    load_assignment:${endpoint("discovery", "localhost", discoveryPort)}
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
`;
    pwts = await startPwts(yaml, plugins.dir);
  });

  after(async () => {
    const code = await pwts?.stop();
    assert.equal(code, 0);
    assert.ok(pwts.stderr.some((l) => /^pwts: SIGTERM: draining/.test(l)));
    await Promise.all([echo?.close(), central?.close()]);
    for (const s of [ingestion, discovery, east]) {
      s?.closeAllConnections();
      s?.close();
    }
  });

  test("seed 003: direct_response, node metadata and source address to the plugin, callout from on_done", async () => {
    const port = pwts.ports.observer!;
    const namaste = await request(`http://127.0.0.1:${port}/`, { headers: { host: "namaste" } });
    assert.equal(namaste.statusCode, 200);
    assert.equal(await namaste.body.text(), "Namaste world!");
    const res = await request(`http://127.0.0.1:${port}/api/users`);
    const seen = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers["x-node-name"], "web-7d9f");
    assert.match(seen.headers["x-source"]!, /^127\.0\.0\.1:\d+$/);
    for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events.slice(0, 2), [
      'POST /api/v1/events {"event":"done"}',
      'POST /api/v1/events {"event":"done"}',
    ]);
    const log = await pwts.waitFor(
      "stdout",
      /"GET \/api\/users HTTP\/1\.1" 200 - 0 \d+ \d+ \d+ "-" "-" "[0-9a-f-]{36}" "127\.0\.0\.1:\d+" "127\.0\.0\.1:\d+"$/,
    );
    assert.ok(log);
    await pwts.waitFor(
      "stdout",
      /"GET \/ HTTP\/1\.1" 200 - 0 14 \d+ - "-" "-" "[0-9a-f-]{36}" "namaste" "-"$/,
    );
  });

  test("seed 002: discovery callout picks the region; cluster_header routes to the TLS cluster", async () => {
    const port = pwts.ports.regional!;
    const res = await request(`http://127.0.0.1:${port}/anything?x=1`, { headers: { host: "httpbin.org" } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), {
      region: "us_east1",
      host: "httpbin.org",
      regionHeader: "us_east1",
    });
    await pwts.waitFor("stdout", /^regional GET \/anything\?x=1 200 - us_east1 HTTP\/1\.1$/);
    const prom = await (await request(`http://127.0.0.1:${pwts.ports.admin}/stats/prometheus`)).body.text();
    assert.match(prom, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="us_east1"\} 1$/m);
    assert.match(
      prom,
      /^envoy_cluster_upstream_rq\{envoy_cluster_name="us_east1",envoy_response_code="200"\} 1$/m,
    );
    assert.match(
      prom,
      /^envoy_http_downstream_rq\{envoy_http_conn_manager_prefix="regional",envoy_response_code_class="2xx"\} 1$/m,
    );
    const clusters = await (await request(`http://127.0.0.1:${pwts.ports.admin}/clusters`)).body.text();
    assert.match(clusters, /^us_east1::127\.0\.0\.1:\d+::rq_total::1$/m);
    const dump = (await (await request(`http://127.0.0.1:${pwts.ports.admin}/config_dump`)).body.json()) as {
      configs: Array<{ bootstrap: { node: { id: string } } }>;
    };
    assert.equal(dump.configs[0]!.bootstrap.node.id, "web-7d9f.default");
    const ready = await request(`http://127.0.0.1:${pwts.ports.admin}/ready`);
    assert.equal(await ready.body.text(), "LIVE\n");
  });
});
