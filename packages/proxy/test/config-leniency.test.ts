/**
 * The config reader takes the lenient forms Envoy's YAML → protobuf JSON loading takes
 * (source/common/protobuf/utility.cc MessageUtil::loadFromJsonNoThrow: case_insensitive_enum_parsing; the
 * JSON parser's single value for a repeated field, integers as strings), and still names the field it refuses.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { request } from "undici";
import { ConfigError } from "../src/config/config-error.ts";
import { parseBootstrapText } from "../src/config/load-config.ts";
import { startTestProxy } from "./support/proxy.ts";

/** The Rust SDK's examples/hello_world/envoy.yaml shape: `listeners:` one map, no listener name, no routes. */
const RUST_SDK_SHAPE = `
static_resources:
  listeners:
    address:
      socket_address:
        address: 127.0.0.1
        port_value: 0
    filter_chains:
      - filters:
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
              stat_prefix: ingress_http
              codec_type: AUTO
              route_config:
                name: no_routes

              http_filters:
                - name: envoy.filters.http.router
`;

test("a single map where a list is expected is read as a one-element list, as the Rust SDK's example envoy.yaml writes listeners", async () => {
  const p = await startTestProxy(RUST_SDK_SHAPE);
  try {
    assert.equal(p.proxy.listeners.length, 1);
    const res = await request(`${p.url()}/`);
    await res.body.text();
    // No routes: Envoy's route_not_found.
    assert.equal(res.statusCode, 404);
  } finally {
    await p.close();
  }
});

test("enum names are read case-insensitively, and integers may be strings, as Envoy's protobuf JSON parsing allows", () => {
  const config = parseBootstrapText(
    `
static_resources:
  listeners:
  - name: web
    address: { socket_address: { address: 127.0.0.1, port_value: "0" } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          codec_type: http1
          route_config:
            virtual_hosts:
            - { name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: app } }] }
          http_filters: { name: envoy.filters.http.router }
  clusters:
    name: app
    type: strict_dns
    lb_policy: round_robin
    dns_lookup_family: v4_only
    connect_timeout: 0.25s
    load_assignment:
      cluster_name: app
      endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: localhost, port_value: "8080" } } } } }
`,
    "lenient.yaml",
    process.cwd(),
  );
  assert.equal(config.listeners[0]!.http!.codecType, "HTTP1");
  assert.equal(config.clusters[0]!.type, "STRICT_DNS");
  assert.equal(config.clusters[0]!.dnsFamily, "V4_ONLY");
});

test("what stays refused still gets one line naming the field", () => {
  const refuse = (yaml: string, pattern: RegExp) =>
    assert.throws(
      () => parseBootstrapText(yaml, "bad.yaml", process.cwd()),
      (err: unknown) =>
        err instanceof ConfigError && pattern.test(err.message) && !err.message.includes("\n"),
    );
  refuse(
    `
static_resources:
  clusters: { name: app, lb_policy: least_request }
`,
    /^static_resources\.clusters\[0\]\.lb_policy: expected one of ROUND_ROBIN, got "LEAST_REQUEST"$/,
  );
  refuse(
    `
static_resources:
  clusters: 5
`,
    /^static_resources\.clusters\[0\]: expected a map, got number 5$/,
  );
});

/** One HTTP listener whose connection manager gets `hcm` and one cluster that gets `cluster` (YAML lines). */
function withFields(hcm: string, cluster: string): string {
  return `
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
          ${hcm}
          route_config:
            virtual_hosts:
            - { name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: app } }] }
          http_filters: [{ name: envoy.filters.http.router }]
  clusters:
  - name: app
    ${cluster}
`;
}

test("YAML 1.1 booleans read as Envoy's yaml-cpp reads them; quoted, they stay strings", () => {
  // protobuf utility.cc parseYamlNode: a plain scalar yaml-cpp's convert<bool> takes is a boolean.
  const read = (value: string) =>
    parseBootstrapText(withFields(`use_remote_address: ${value}`, ""), "b.yaml", process.cwd()).listeners[0]!
      .http!.useRemoteAddress;
  for (const yes of ["yes", "Yes", "YES", "on", "On", "ON", "y", "Y", "true"])
    assert.equal(read(yes), true, yes);
  for (const no of ["no", "No", "NO", "off", "Off", "OFF", "n", "N", "false"])
    assert.equal(read(no), false, no);
  assert.throws(
    () => read('"yes"'),
    /use_remote_address: expected true or false, got string "yes"$/,
    "a quoted yes is a string, which a bool field refuses",
  );
  // Map keys stay text (parseYamlNode reads them as strings): a Struct configuration keeps `on` and `n` as keys.
  const withStruct = parseBootstrapText(
    withFields("", "").replace(
      "http_filters: [{ name: envoy.filters.http.router }]",
      `http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                configuration: { "@type": type.googleapis.com/google.protobuf.Struct, value: { on: yes, n: "y" } }
                vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: /tmp/p.wasm } } }
          - name: envoy.filters.http.router`,
    ),
    "b.yaml",
    process.cwd(),
  );
  assert.equal(
    new TextDecoder().decode(withStruct.listeners[0]!.http!.wasmFilters[0]!.pluginConfiguration),
    '{"on":true,"n":"y"}',
  );
  // A boolean where a string is expected is refused, as Envoy's protobuf JSON parsing refuses it.
  assert.throws(
    () => parseBootstrapText(withFields("server_name: off", ""), "b.yaml", process.cwd()),
    /typed_config\.server_name: expected a string, got boolean false$/,
  );
});

test("enum values may be given as their numbers, as protobuf JSON parsing takes them", () => {
  const config = parseBootstrapText(
    withFields("codec_type: 2", "type: 1\n    lb_policy: 0\n    dns_lookup_family: 1"),
    "n.yaml",
    process.cwd(),
  );
  assert.equal(config.listeners[0]!.http!.codecType, "HTTP2");
  assert.equal(config.clusters[0]!.type, "STRICT_DNS");
  assert.equal(config.clusters[0]!.dnsFamily, "V4_ONLY");
  assert.throws(
    () => parseBootstrapText(withFields("", "type: 3"), "n.yaml", process.cwd()),
    /static_resources\.clusters\[0\]\.type: expected one of STATIC, STRICT_DNS, LOGICAL_DNS \(or its number, 0 to 2\), got 3$/,
  );
});
