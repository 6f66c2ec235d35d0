import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startRegistry, type TestRegistry } from "@proxy-wasm-ts/test-support/docker-registry";
import { tinyPluginWasm } from "@proxy-wasm-ts/test-support/wasm-fixture";
import { parseAllDocuments } from "yaml";
import { istioManifests, pushWasm, validateConfigFiles, validateWasmPlugin } from "../src/index.ts";

const digest = `sha256:${"ab".repeat(32)}`;

const httpPluginEnvoy = `
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: upstream }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: api_observer
                root_id: api_observer_root
                fail_open: true
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"upstream_name": "ingestion-service", "path": "/api/v1/events"}'
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  environment_variables: { key_values: { REGION: eu } }
                  code: { local: { filename: build/plugin.wasm } }
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: upstream
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } } }] }]
  - name: ingestion-service
    connect_timeout: 1s
    type: STRICT_DNS
    load_assignment:
      cluster_name: ingestion-service
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ingestion.observability.svc.cluster.local, port_value: 8888 } } } }] }]
`;

const networkPluginEnvoy = `
static_resources:
  listeners:
  - name: tcp
    address: { socket_address: { address: 127.0.0.1, port_value: 10001 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            root_id: tcp_router
            vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: build/plugin.wasm } } }
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: backend
  clusters:
  - name: backend
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9000 } } } }] }]
`;

describe("pwts istio: generated resources", { timeout: 300_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pwts-istio-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function pluginFolder(name: string, envoyYaml: string): Promise<string> {
    const folder = join(dir, name);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "envoy.yaml"), envoyYaml);
    await writeFile(join(folder, "package.json"), JSON.stringify({ name: `@plugins/${name}` }));
    return folder;
  }

  test("an HTTP plugin with a callout: WasmPlugin, ServiceEntry and EnvoyFilter, all valid", async () => {
    const folder = await pluginFolder("api-observer", httpPluginEnvoy);
    const out = await istioManifests(folder, {
      image: `oci://registry.example.com/plugins/api-observer@${digest}`,
      phase: "STATS",
      priority: 10,
      selector: { app: "httpbin" },
      match: [{ mode: "SERVER", ports: [8000] }],
    });
    assert.deepEqual(out.problems, []);
    assert.deepEqual(out.warnings, []);
    const [plugin, entry, filter] = out.resources as Array<{
      kind: string;
      metadata: { name: string };
      spec: Record<string, unknown>;
    }>;
    assert.equal(plugin?.kind, "WasmPlugin");
    assert.equal(plugin?.metadata.name, "api-observer");
    assert.equal(plugin?.spec.url, `oci://registry.example.com/plugins/api-observer@${digest}`);
    assert.equal(plugin?.spec.sha256, digest.slice("sha256:".length));
    assert.equal(plugin?.spec.pluginName, "api_observer_root");
    assert.deepEqual(plugin?.spec.pluginConfig, {
      upstream_name: "ingestion-service",
      path: "/api/v1/events",
    });
    assert.equal(plugin?.spec.failStrategy, "FAIL_OPEN");
    assert.equal(plugin?.spec.phase, "STATS");
    assert.equal(plugin?.spec.priority, 10);
    assert.equal(plugin?.spec.type, undefined);
    assert.deepEqual(plugin?.spec.vmConfig, { env: [{ name: "REGION", value: "eu" }] });
    assert.deepEqual(plugin?.spec.match, [{ mode: "SERVER", ports: [{ number: 8000 }] }]);
    assert.equal(entry?.kind, "ServiceEntry");
    assert.deepEqual(entry?.spec.hosts, ["ingestion.observability.svc.cluster.local"]);
    assert.equal(entry?.spec.location, "MESH_INTERNAL");
    assert.equal(filter?.kind, "EnvoyFilter");
    const patches = filter?.spec.configPatches as Array<{ patch: { value: { name: string } } }>;
    assert.equal(patches[0]?.patch.value.name, "ingestion-service");
    // The YAML round-trips to the same resources and passes `pwts validate` as a file.
    const docs = parseAllDocuments(out.yaml).map((d) => d.toJS());
    assert.deepEqual(docs, out.resources);
    await writeFile(join(folder, "wasmplugin.yaml"), out.yaml);
    assert.deepEqual(await validateConfigFiles([join(folder, "wasmplugin.yaml")]), []);
  });

  test("a callout to a loopback address is flagged", async () => {
    const folder = await pluginFolder(
      "local-callout",
      httpPluginEnvoy.replace("ingestion.observability.svc.cluster.local", "127.0.0.42"),
    );
    const out = await istioManifests(folder, { image: `registry.example.com/p@${digest}` });
    assert.deepEqual(out.problems, []);
    assert.equal(out.warnings.length, 1);
    assert.match(
      out.warnings[0] ?? "",
      /"ingestion-service" points at 127\.0\.0\.42:8888, a loopback address/,
    );
  });

  test("a network filter gets type: NETWORK and targetRefs", async () => {
    const folder = await pluginFolder("tcp-router", networkPluginEnvoy);
    const out = await istioManifests(folder, {
      image: `registry.example.com/plugins/tcp-router@${digest}`,
      targetRefs: [{ kind: "Gateway", name: "edge" }],
    });
    assert.deepEqual(out.problems, []);
    assert.equal(out.resources.length, 1);
    const spec = (out.resources[0] as { spec: Record<string, unknown> }).spec;
    assert.equal(spec.type, "NETWORK");
    assert.equal(spec.pluginName, "tcp_router");
    assert.deepEqual(spec.targetRefs, [
      { group: "gateway.networking.k8s.io", kind: "Gateway", name: "edge" },
    ]);
  });

  test("selector and targetRefs together are refused", async () => {
    const folder = await pluginFolder("both", networkPluginEnvoy);
    await assert.rejects(
      istioManifests(folder, {
        image: `registry.example.com/x@${digest}`,
        selector: { app: "a" },
        targetRefs: [{ kind: "Gateway", name: "g" }],
      }),
      /either a workload selector or targetRefs/,
    );
  });

  test("a tag is pinned to the digest the registry serves", async () => {
    let registry: TestRegistry | undefined;
    try {
      registry = await startRegistry();
      const pushed = await pushWasm(tinyPluginWasm("istio"), `${registry.host}/plugins/tcp-router:1.0.0`);
      const folder = await pluginFolder("pinned", networkPluginEnvoy);
      const out = await istioManifests(folder, { image: `${registry.host}/plugins/tcp-router:1.0.0` });
      const spec = (out.resources[0] as { spec: Record<string, unknown> }).spec;
      assert.equal(spec.url, pushed.pinnedUrl);
      assert.equal(`sha256:${spec.sha256}`, pushed.digest);
      assert.deepEqual(out.problems, []);
    } finally {
      await registry?.stop();
    }
  });
});

describe("WasmPlugin CRD validation of hand-made resources", { timeout: 60_000 }, () => {
  const valid = {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: { name: "demo", namespace: "default" },
    spec: {
      url: `oci://ghcr.io/org/demo@${digest}`,
      sha256: digest.slice(7),
      phase: "AUTHN",
      selector: { matchLabels: { app: "httpbin" } },
    },
  };
  const withSpec = (spec: Record<string, unknown>, drop: string[] = []) => {
    const merged: Record<string, unknown> = { ...valid.spec, ...spec };
    for (const key of drop) delete merged[key];
    return { ...valid, spec: merged };
  };

  test("the valid one passes, and so do URLs without a scheme (oci is the default)", () => {
    assert.deepEqual(validateWasmPlugin(valid), []);
    for (const url of [
      "demo",
      "demo:1.0",
      "registry.local:5000/team/demo_x:1.0",
      "file:///opt/x.wasm",
      "https://h/x.wasm",
    ]) {
      assert.deepEqual(validateWasmPlugin(withSpec({ url }, ["sha256"])), [], url);
    }
  });

  const cases: Array<{ name: string; resource: unknown; path: string; message: RegExp }> = [
    {
      name: "bad url scheme",
      resource: withSpec({ url: "ftp://example.com/x.wasm" }),
      path: "spec.url",
      message: /url must have schema one of \[http, https, file, oci\]/,
    },
    {
      name: "sha256 not matching the url digest",
      resource: withSpec({ sha256: "cd".repeat(32) }),
      path: "spec",
      message: /sha256 must equal the digest pinned in url/,
    },
    {
      name: "selector and targetRefs together",
      resource: withSpec({
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "gw" }],
      }),
      path: "spec",
      message: /only one of targetRefs or selector can be set/,
    },
    {
      name: "sha256 not hex",
      resource: withSpec({ sha256: "xyz" }),
      path: "spec.sha256",
      message: /must match pattern/,
    },
    {
      name: "missing url",
      resource: withSpec({}, ["url", "sha256"]),
      path: "spec",
      message: /must have required property url/,
    },
    {
      name: "typo in a field",
      resource: withSpec({ phaze: "AUTHN" }),
      path: "spec.phaze",
      message: /unknown field "phaze"/,
    },
    {
      name: "bad phase",
      resource: withSpec({ phase: "LATE" }),
      path: "spec.phase",
      message: /AUTHN, AUTHZ, STATS/,
    },
    {
      name: "bad failStrategy",
      resource: withSpec({ failStrategy: "FAIL_SOMETIMES" }),
      path: "spec.failStrategy",
      message: /FAIL_RELOAD/,
    },
    {
      name: "env value from HOST",
      resource: withSpec({ vmConfig: { env: [{ name: "A", valueFrom: "HOST", value: "x" }] } }),
      path: "spec.vmConfig.env[0]",
      message: /only be set when valueFrom is INLINE/,
    },
    {
      name: "duplicate env names",
      resource: withSpec({
        vmConfig: {
          env: [
            { name: "A", value: "1" },
            { name: "A", value: "2" },
          ],
        },
      }),
      path: "spec.vmConfig.env",
      message: /unique/,
    },
    {
      name: "wildcard selector",
      resource: withSpec({ selector: { matchLabels: { app: "*" } } }),
      path: "spec.selector.matchLabels",
      message: /wildcards/,
    },
    {
      name: "url that is neither a URL nor an image reference",
      resource: withSpec({ url: "%%not a url" }, ["sha256"]),
      path: "spec.url",
      message: /without one it must be an image reference/,
    },
    {
      name: "empty url value (null)",
      resource: withSpec({ url: null }, ["sha256"]),
      path: "spec.url",
      message: /must not be null/,
    },
    {
      name: "empty spec (null)",
      resource: { ...valid, spec: null },
      path: "spec",
      message: /must not be null/,
    },
    {
      name: "duplicate match ports",
      resource: withSpec({ match: [{ ports: [{ number: 80 }, { number: 80 }] }] }),
      path: "spec.match[0].ports",
      message: /ports must be unique/,
    },
    {
      name: "cross-namespace targetRef",
      resource: withSpec({ targetRefs: [{ kind: "Gateway", name: "gw", namespace: "other" }] }, ["selector"]),
      path: "spec.targetRefs[0]",
      message: /cross-namespace/,
    },
    {
      name: "uppercase name",
      resource: { ...valid, metadata: { name: "Demo" } },
      path: "metadata.name",
      message: /DNS-1123/,
    },
    {
      name: "port out of range",
      resource: withSpec({ match: [{ ports: [{ number: 70000 }] }] }),
      path: "spec.match[0].ports[0].number",
      message: /<= 65535/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const problems = validateWasmPlugin(c.resource);
      const hit = problems.find((p) => p.path === c.path && c.message.test(p.message));
      assert.ok(hit, `expected ${c.message} at ${c.path}; got ${JSON.stringify(problems)}`);
    });
  }
});
