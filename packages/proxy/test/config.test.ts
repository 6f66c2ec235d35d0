import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { httpBootstrap, staticCluster } from "@proxy-wasm-ts/test-support/envoy-config";
import { parseBootstrapText } from "../src/config/load-config.ts";
import type { BootstrapConfig } from "../src/config/model.ts";

const parse = (yaml: string): BootstrapConfig => parseBootstrapText(yaml, "test.yaml", "/tmp");
const route = `
              - match: { prefix: "/" }
                route: { cluster: a }`;

function withFilter(filterYaml: string): BootstrapConfig {
  return parse(httpBootstrap({ filters: filterYaml, routes: route, clusters: staticCluster("a", 1) }));
}

function wasm(typedConfigHead: string, config: string): string {
  return `
          - name: envoy.filters.http.wasm
            typed_config:
${typedConfigHead}
${config}`;
}

const VM = `vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: plugin.wasm } } }`;
const dec = new TextDecoder();

describe("bootstrap config", () => {
  test("TypedStruct (udpa and xds) and plain Any wasm filters give the same plugin config", () => {
    const forms = [
      `              "@type": type.googleapis.com/udpa.type.v1.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              value:
                config: { name: p, root_id: r, ${VM} }`,
      `              "@type": type.googleapis.com/xds.type.v3.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              value:
                config: { name: p, root_id: r, ${VM} }`,
      `              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config: { name: p, root_id: r, ${VM} }`,
    ];
    for (const f of forms) {
      const plugin = withFilter(wasm(f, "")).listeners[0]!.http!.wasmFilters[0]!;
      assert.equal(plugin.name, "p");
      assert.equal(plugin.rootId, "r");
      assert.equal(plugin.code.location, "/tmp/plugin.wasm");
      assert.equal(plugin.failurePolicy, "FAIL_CLOSED");
    }
  });

  test("plugin configuration: StringValue raw, BytesValue decoded, Struct as compact JSON", () => {
    const head = `              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm`;
    const cases: Array<[string, string]> = [
      [`{ "@type": type.googleapis.com/google.protobuf.StringValue, value: '{"a": 1}' }`, '{"a": 1}'],
      [`{ "@type": type.googleapis.com/google.protobuf.BytesValue, value: aGVsbG8= }`, "hello"],
      [
        `{ "@type": type.googleapis.com/google.protobuf.Struct, value: { upstream: x, n: 2, list: [true] } }`,
        '{"upstream":"x","n":2,"list":[true]}',
      ],
    ];
    for (const [configuration, expected] of cases) {
      const p = withFilter(
        wasm(head, `              config: { name: p, configuration: ${configuration}, ${VM} }`),
      ).listeners[0]!.http!.wasmFilters[0]!;
      assert.equal(dec.decode(p.pluginConfiguration), expected);
    }
    assert.throws(
      () =>
        withFilter(
          wasm(
            head,
            `              config: { configuration: { "@type": type.googleapis.com/google.protobuf.Struct, upstream: x }, ${VM} }`,
          ),
        ),
      (e: Error) => /config\.configuration\.upstream: unknown or unsupported field/.test(e.message),
    );
  });

  test("fail_open, failure_policy, vm_id, environment variables and camelCase names", () => {
    process.env.PWTS_TEST_VAR = "from-host";
    const p = withFilter(
      wasm(
        `              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm`,
        `              config:
                name: p
                failurePolicy: FAIL_RELOAD
                vmConfig:
                  vmId: shared
                  code: { local: { filename: /abs/plugin.wasm } }
                  environmentVariables: { hostEnvKeys: [PWTS_TEST_VAR], keyValues: { MODE: test } }`,
      ),
    ).listeners[0]!.http!.wasmFilters[0]!;
    assert.equal(p.failurePolicy, "FAIL_RELOAD");
    assert.equal(p.vmId, "shared");
    assert.deepEqual(p.environment, { PWTS_TEST_VAR: "from-host", MODE: "test" });
    const open = withFilter(
      wasm(
        `              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm`,
        `              config: { fail_open: true, ${VM} }`,
      ),
    ).listeners[0]!.http!.wasmFilters[0]!;
    assert.equal(open.failurePolicy, "FAIL_OPEN");
  });

  test("durations, defaults and cluster types", () => {
    const c = parse(
      httpBootstrap({
        routes: route,
        clusters: `${staticCluster("a", 1)}
  - name: b
    connectTimeout: { seconds: 2, nanos: 500000000 }
    type: STRICT_DNS
    dns_refresh_rate: 0.25s
    load_assignment: { cluster_name: b, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: localhost, port_value: 80 } } } }] }] }`,
      }),
    );
    assert.equal(c.clusters[0]!.connectTimeoutMs, 1000);
    assert.equal(c.clusters[1]!.connectTimeoutMs, 2500);
    assert.equal(c.clusters[1]!.dnsRefreshMs, 250);
    const hcm = c.listeners[0]!.http!;
    assert.equal(hcm.maxRequestHeadersKb, 60);
    assert.equal(hcm.bufferLimitBytes, 1024 * 1024);
    assert.equal(hcm.routeTable.virtualHosts[0]!.routes[0]!.action.kind, "route");
  });

  test("each unsupported or wrong field is one error naming its path", () => {
    const base = httpBootstrap({ routes: route, clusters: staticCluster("a", 1) });
    const cases: Array<[string, RegExp]> = [
      [
        base.replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          tracing: {}"),
        /typed_config\.tracing: unknown or unsupported field/,
      ],
      [
        base.replace("connect_timeout: 1s", "connect_timeout: soon"),
        /^static_resources\.clusters\[0\]\.connect_timeout: expected a duration such as "5s" or "0.25s", got "soon"$/,
      ],
      [
        base.replace("type: STATIC", "type: EDS"),
        /clusters\[0\]\.type: expected one of STATIC, STRICT_DNS, LOGICAL_DNS, got "EDS"$/,
      ],
      [
        base.replace("route: { cluster: a }", "route: { cluster: a, hash_policy: [] }"),
        /routes\[0\]\.route\.hash_policy: unknown or unsupported field/,
      ],
      [
        base.replace("port_value: 0", "port_value: 70000"),
        /listeners\[0\]\.address\.socket_address\.port_value: expected an integer from 0 to 65535, got 70000$/,
      ],
      [
        base.replace("route: { cluster: a }", "route: { cluster: a, cluster_header: b }"),
        /routes\[0\]\.route: only one of cluster, cluster_header may be set$/,
      ],
      [`${base}\ndynamic_resources: {}\n`, /^dynamic_resources: xDS \(dynamic_resources\) is not supported$/],
      [
        base.replace(
          '"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
          '"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n              bogus: 1',
        ),
        /http_filters\[0\]\.typed_config\.bogus: unknown or unsupported field/,
      ],
    ];
    for (const [yaml, pattern] of cases) {
      assert.throws(
        () => parse(yaml),
        (err: Error) => {
          assert.match(err.message, pattern);
          assert.equal(err.message.includes("\n"), false);
          return true;
        },
      );
    }
  });

  test("duplicate keys and duplicate cluster names are rejected", () => {
    assert.throws(
      () => parse("node: { id: a }\nnode: { id: b }\n"),
      (e: Error) => /not valid YAML: .*(unique|Map keys)/.test(e.message),
    );
    const dup = httpBootstrap({ routes: route, clusters: staticCluster("a", 1) + staticCluster("a", 2) });
    assert.throws(
      () => parse(dup),
      (e: Error) => e.message === 'static_resources.clusters[1].name: duplicate cluster name "a"',
    );
  });
});
