import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseBootstrapText } from "../src/config/load-config.ts";
import type { HeaderList } from "../src/http/header-list.ts";
import { RouteTable } from "../src/http/route-table.ts";

function table(virtualHosts: string): RouteTable {
  const config = parseBootstrapText(
    `
static_resources:
  listeners:
  - address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: t
          route_config:
            virtual_hosts:${virtualHosts}
          http_filters: [{ name: envoy.filters.http.router }]
  clusters:
  - { name: c, load_assignment: { cluster_name: c, endpoints: [] } }
`,
    "routes.yaml",
    "/tmp",
  );
  return new RouteTable(config.listeners[0]!.http!.routeTable);
}

const req = (authority: string, path: string, extra: HeaderList = []): HeaderList => [
  [":authority", authority],
  [":path", path],
  [":method", "GET"],
  ...extra,
];

describe("route table", () => {
  test("virtual host by domain: exact, then longest suffix wildcard, then prefix wildcard, then *", () => {
    const t = table(`
            - { name: exact, domains: ["api.example.com"], routes: [{ name: r1, match: { prefix: "/" }, route: { cluster: c } }] }
            - { name: suffix, domains: ["*.example.com"], routes: [{ name: r2, match: { prefix: "/" }, route: { cluster: c } }] }
            - { name: longer_suffix, domains: ["*.eu.example.com"], routes: [{ name: r3, match: { prefix: "/" }, route: { cluster: c } }] }
            - { name: prefix, domains: ["internal.*"], routes: [{ name: r4, match: { prefix: "/" }, route: { cluster: c } }] }
            - { name: any, domains: ["*"], routes: [{ name: r5, match: { prefix: "/" }, route: { cluster: c } }] }`);
    const vh = (authority: string) => t.select(req(authority, "/"))?.virtualHost.name;
    assert.equal(vh("api.example.com"), "exact");
    assert.equal(vh("API.example.com:8080"), "exact");
    assert.equal(vh("www.example.com"), "suffix");
    assert.equal(vh("shop.eu.example.com"), "longer_suffix");
    assert.equal(vh("internal.corp"), "prefix");
    assert.equal(vh("other.org"), "any");
  });

  test("path, prefix, safe_regex, path_separated_prefix, case_sensitive, headers and query parameters", () => {
    const t = table(`
            - name: all
              domains: ["*"]
              routes:
              - { name: exact, match: { path: "/exact" }, route: { cluster: c } }
              - { name: regex, match: { safe_regex: { google_re2: {}, regex: "/users/[0-9]+" } }, route: { cluster: c } }
              - { name: separated, match: { path_separated_prefix: "/api" }, route: { cluster: c } }
              - { name: nocase, match: { prefix: "/CaSe", case_sensitive: false }, route: { cluster: c } }
              - { name: header, match: { prefix: "/h", headers: [{ name: x-env, string_match: { prefix: prod } }, { name: x-debug, present_match: true, invert_match: true }] }, route: { cluster: c } }
              - { name: query, match: { prefix: "/q", query_parameters: [{ name: v, string_match: { exact: "2" } }] }, route: { cluster: c } }
              - { name: fallback, match: { prefix: "/" }, route: { cluster: c } }`);
    const name = (path: string, extra: HeaderList = []) => t.select(req("x", path, extra))?.route.name;
    assert.equal(name("/exact"), "exact");
    assert.equal(name("/exact?x=1"), "exact");
    assert.equal(name("/exactly"), "fallback");
    assert.equal(name("/users/42"), "regex");
    assert.equal(name("/users/42/x"), "fallback");
    assert.equal(name("/api"), "separated");
    assert.equal(name("/api/v1"), "separated");
    assert.equal(name("/apis"), "fallback");
    assert.equal(name("/case/x"), "nocase");
    assert.equal(name("/h", [["x-env", "production"]]), "header");
    assert.equal(
      name("/h", [
        ["x-env", "production"],
        ["x-debug", "1"],
      ]),
      "fallback",
    );
    assert.equal(name("/q?v=2"), "query");
    assert.equal(name("/q?v=3"), "fallback");
  });

  test("grpc: {} matches only gRPC requests (application/grpc, application/grpc+...; not grpc-web)", () => {
    const t = table(`
            - name: all
              domains: ["*"]
              routes:
              - { name: grpc, match: { prefix: "/", grpc: {} }, route: { cluster: c } }
              - { name: rest, match: { prefix: "/" }, route: { cluster: c } }`);
    const name = (contentType?: string) =>
      t.select(req("x", "/demo.Greeter/Hello", contentType ? [["content-type", contentType]] : []))?.route
        .name;
    assert.equal(name("application/grpc"), "grpc");
    assert.equal(name("application/grpc+proto"), "grpc");
    assert.equal(name("application/grpc-web"), "rest");
    assert.equal(name("application/json"), "rest");
    assert.equal(name(), "rest");
  });
});
