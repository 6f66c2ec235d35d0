import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

describe("HTTP listener routing", { timeout: 30_000 }, () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let p: RunningTestProxy;

  before(async () => {
    a = await startUpstream("a");
    b = await startUpstream("b");
    p = await startTestProxy(`
static_resources:
  listeners:
  - name: web
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
          route_config:
            name: local_route
            virtual_hosts:
            - name: direct
              domains: ["direct.example"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "Namaste world!" } }
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/b/" }
                route: { cluster: b, prefix_rewrite: "/rewritten/" }
              - match: { prefix: "/by-header" }
                route: { cluster_header: region }
              - match: { prefix: "/slow" }
                route: { cluster: a, timeout: 0.2s }
              - match: { prefix: "/nowhere" }
                route: { cluster: down }
              - match: { prefix: "/retry-down" }
                route: { cluster: down, retry_policy: { retry_on: connect-failure, num_retries: 2 } }
              - match: { prefix: "/retry-half" }
                route: { cluster: half, retry_policy: { retry_on: "reset,connect-failure", num_retries: 1 } }
              - match: { prefix: "/" , headers: [{ name: x-pick, string_match: { exact: b } }] }
                route: { cluster: b }
              - match: { prefix: "/a" }
                route: { cluster: a }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: a
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: a
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${a.port} } } } }] }]
  - name: b
    connect_timeout: 1s
    type: STRICT_DNS
    load_assignment:
      cluster_name: b
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: localhost, port_value: ${b.port} } } } }] }]
  - name: half
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: half
      endpoints: [{ lb_endpoints: [
        { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } },
        { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${a.port} } } } }] }]
  - name: down
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: down
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }]
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
`);
  });

  after(async () => {
    await p?.close();
    await a?.close();
    await b?.close();
  });

  test("routes by prefix and adds Envoy's request and response headers", async () => {
    const res = await request(`${p.url()}/a/x?q=1`);
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as { name: string; url: string; headers: Record<string, string> };
    assert.equal(body.name, "a");
    assert.equal(body.url, "/a/x?q=1");
    assert.match(body.headers["x-request-id"]!, /^[0-9a-f-]{36}$/);
    assert.equal(body.headers["x-forwarded-proto"], "http");
    assert.equal(body.headers["x-envoy-expected-rq-timeout-ms"], "15000");
    assert.equal(res.headers.server, "envoy");
    assert.match(String(res.headers["x-envoy-upstream-service-time"]), /^\d+$/);
  });

  test("prefix_rewrite, header match and STRICT_DNS cluster", async () => {
    const res = await request(`${p.url()}/b/thing`);
    const body = (await res.body.json()) as { name: string; url: string; headers: Record<string, string> };
    assert.equal(body.name, "b");
    assert.equal(body.url, "/rewritten/thing");
    assert.equal(body.headers["x-envoy-original-path"], "/b/thing");
    const byHeader = await request(`${p.url()}/other`, { headers: { "x-pick": "b" } });
    assert.equal(((await byHeader.body.json()) as { name: string }).name, "b");
  });

  test("cluster_header routing and a missing cluster", async () => {
    const ok = await request(`${p.url()}/by-header`, { headers: { region: "a" } });
    assert.equal(((await ok.body.json()) as { name: string }).name, "a");
    const missing = await request(`${p.url()}/by-header`, { headers: { region: "nope" } });
    assert.equal(missing.statusCode, 503);
    assert.equal(await missing.body.text(), "");
  });

  test("direct_response and no route", async () => {
    const res = await request(`${p.url()}/`, { headers: { host: "direct.example" } });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), "Namaste world!");
    assert.equal(res.headers["content-type"], "text/plain");
    const nr = await request(`${p.url()}/zzz`);
    assert.equal(nr.statusCode, 404);
    assert.equal(await nr.body.text(), "");
  });

  test("upstream connection failure, route timeout and upstream reset", async () => {
    const uf = await request(`${p.url()}/nowhere`);
    assert.equal(uf.statusCode, 503);
    assert.match(
      await uf.body.text(),
      /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure/,
    );
    const ut = await request(`${p.url()}/slow/2000`);
    assert.equal(ut.statusCode, 504);
    assert.equal(await ut.body.text(), "upstream request timeout");
    const uc = await request(`${p.url()}/a/reset`);
    assert.equal(uc.statusCode, 503);
    assert.equal(
      await uc.body.text(),
      "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    );
    await new Promise((r) => setTimeout(r, 20));
    const flags = (path: string) =>
      p.stdout
        .find((l) => l.includes(` ${path} `))
        ?.split('" ')[1]
        ?.split(" ")
        .slice(0, 2)
        .join(" ");
    assert.equal(flags("/nowhere"), "503 UF");
    assert.equal(flags("/slow/2000"), "504 UT");
    assert.equal(flags("/a/reset"), "503 UC");
  });

  test("retry_policy: a retry reaches the live endpoint; exhausted retries give URX", async () => {
    for (let i = 0; i < 4; i++) {
      const res = await request(`${p.url()}/retry-half/${i}`);
      assert.equal(res.statusCode, 200);
      await res.body.text();
    }
    const down = await request(`${p.url()}/retry-down`);
    assert.equal(down.statusCode, 503);
    assert.match(
      await down.body.text(),
      /^upstream connect error or disconnect\/reset before headers\. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused$/,
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(p.stdout.some((l) => /"GET \/retry-down HTTP\/1\.1" 503 UF,URX /.test(l)));
  });

  test("access log lines carry Envoy's default format and flags", async () => {
    await request(`${p.url()}/zzz-log`).then((r) => r.body.text());
    await new Promise((r) => setTimeout(r, 20));
    const line = p.stdout.find((l) => l.includes("/zzz-log"));
    assert.ok(line, `no access log line in ${p.stdout.join("")}`);
    assert.match(
      line,
      /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET \/zzz-log HTTP\/1\.1" 404 NR 0 0 \d+ - "-" "-" "[0-9a-f-]{36}" "127\.0\.0\.1:\d+" "-"\n$/,
    );
  });
});
