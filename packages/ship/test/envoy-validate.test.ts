import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { tinyPluginWasm } from "@proxy-wasm-ts/test-support/wasm-fixture";
import { parse, stringify } from "yaml";
import { type ConfigProblem, validateConfigFiles, validateEnvoyConfig } from "../src/index.ts";

const seeds = new URL("./fixtures/seeds/", import.meta.url).pathname;
const errors = (problems: ConfigProblem[]) => problems.filter((p) => p.severity === "error");

describe("seed configs", { timeout: 300_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pwts-seeds-"));
    await cp(seeds, dir, { recursive: true });
    // Seed 003 mounts its cargo output into the container; put a module where the mount points.
    const release = join(dir, "003-ingestion/target/wasm32-unknown-unknown/release");
    await mkdir(release, { recursive: true });
    await writeFile(join(release, "httpfilter.wasm"), tinyPluginWasm("httpfilter"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const config of [
    "004-lab1/envoy.yaml",
    "004-lab3/envoy.yaml",
    "003-ingestion/envoy.yaml",
    "002-regional/envoy.yaml",
  ]) {
    test(`${config} passes`, async () => {
      assert.deepEqual(errors(await validateConfigFiles([join(dir, config)])), []);
    });
  }

  test("seed 003's compose file passes once the module it mounts exists", async () => {
    assert.deepEqual(errors(await validateConfigFiles([join(dir, "003-ingestion/docker-compose.yaml")])), []);
  });

  test("seed 003 as published (listeners as one mapping) passes, as Envoy and pwts run read it", async () => {
    // Envoy's YAML loading takes a single value for a repeated field (repeated-single-values.ts).
    assert.deepEqual(errors(await validateConfigFiles([join(dir, "003-ingestion/as-published.yaml")])), []);
  });

  test("a lone listener is still checked inside: its errors are reported at listeners[0]", async () => {
    const text = (await readFile(join(dir, "003-ingestion/as-published.yaml"), "utf8")).replace(
      "filter_chains:",
      "filter_chainz:",
    );
    const problems = errors(await validateEnvoyConfig("as-published.yaml", text));
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0]?.path, "static_resources.listeners[0].filter_chainz");
  });

  test("container paths without a bind mount are a warning, not an error", async () => {
    const problems = await validateConfigFiles([join(dir, "004-lab1/envoy.yaml")]);
    const warning = problems.find((p) => p.path.endsWith("vm_config.code.local.filename"));
    assert.equal(warning?.severity, "warning");
  });
});

describe("broken configs fail with their field path", { timeout: 300_000 }, () => {
  let dir: string;
  let base: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pwts-broken-"));
    base = await readFile(join(seeds, "004-lab3/envoy.yaml"), "utf8");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Edits work on the parsed document, so they do not depend on how the fixture is laid out.
  // biome-ignore lint/suspicious/noExplicitAny: test edits reach deep into a parsed YAML document
  type Doc = Record<string, any>;
  const hcmOf = (d: Doc) => d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  async function check(name: string, edit: (doc: Doc) => void): Promise<ConfigProblem[]> {
    const file = join(dir, `${name}.yaml`);
    const doc = parse(base) as Doc;
    edit(doc);
    await writeFile(file, stringify(doc));
    return errors(await validateConfigFiles([file]));
  }

  const hcm = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config<HttpConnectionManager>";
  const cases: Array<{ name: string; edit: (d: Doc) => void; path: string; message: RegExp }> = [
    {
      name: "unknown field",
      edit: (d) => {
        d.static_resources.clusters[0].conect_timeout = "5s";
      },
      path: "static_resources.clusters[0].conect_timeout",
      message:
        /unknown field "conect_timeout" in envoy\.config\.cluster\.v3\.Cluster \(did you mean "connect_timeout"\?\)/,
    },
    {
      name: "unknown field inside a typed config",
      edit: (d) => {
        hcmOf(d).stat_prefx = "x";
      },
      path: `${hcm}.stat_prefx`,
      message: /unknown field "stat_prefx"/,
    },
    {
      name: "misspelled @type",
      edit: (d) => {
        hcmOf(d).http_filters[0].typed_config["@type"] =
          "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasn";
      },
      path: `${hcm}.http_filters[0].typed_config.@type`,
      message:
        /"type\.googleapis\.com\/envoy\.extensions\.filters\.http\.wasm\.v3\.Wasn" names no message .*did you mean type\.googleapis\.com\/envoy\.extensions\.filters\.http\.wasm\.v3\.Wasm\?/,
    },
    {
      name: "bad duration",
      edit: (d) => {
        d.static_resources.clusters[0].connect_timeout = "5 seconds";
      },
      path: "static_resources.clusters[0].connect_timeout",
      message: /google\.protobuf\.Duration/,
    },
    {
      name: "bad enum",
      edit: (d) => {
        d.static_resources.clusters[0].type = "LOGICAL_DNZ";
      },
      path: "static_resources.clusters[0].type",
      message: /LOGICAL_DNZ/,
    },
    {
      name: "route to a missing cluster",
      edit: (d) => {
        hcmOf(d).route_config.virtual_hosts[0].routes[0].route.cluster = "httpbun";
      },
      path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster",
      message: /names cluster "httpbun", which is not defined \(static clusters: httpbin, metadata\)/,
    },
    {
      name: "port out of range (validate.rules)",
      edit: (d) => {
        d.admin.address.socket_address.port_value = 99999;
      },
      path: "admin.address.socket_address.port_value",
      message: /99999 must be <= 65535/,
    },
    {
      name: "empty stat_prefix (validate.rules min_len)",
      edit: (d) => {
        hcmOf(d).stat_prefix = "";
      },
      path: `${hcm}.stat_prefix`,
      message: /length 0 < 1/,
    },
    {
      name: "router not last",
      edit: (d) => {
        hcmOf(d).http_filters.reverse();
      },
      path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]",
      message: /router must be the last HTTP filter/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const problems = await check(c.name.replace(/\W+/g, "-"), c.edit);
      const hit = problems.find((p) => p.path === c.path);
      assert.ok(hit, `expected a problem at ${c.path}; got ${JSON.stringify(problems, null, 1)}`);
      assert.match(hit.message, c.message);
    });
  }

  test("YAML anchors and merge keys are understood", async () => {
    const file = join(dir, "anchors.yaml");
    const text = `static_resources:
  clusters:
  - &upstream
    name: a
    connect_timeout: 1s
    type: STATIC
    load_assignment: { cluster_name: a }
  - <<: *upstream
    name: b
`;
    await writeFile(file, text);
    assert.deepEqual(errors(await validateConfigFiles([file])), []);
  });

  test("several problems are all reported", async () => {
    const problems = await check("several", (d) => {
      d.static_resources.clusters[0].type = "NOPE";
      d.static_resources.clusters[1].connect_timeout = "soon";
    });
    assert.deepEqual(
      problems.map((p) => p.path).sort(),
      ["static_resources.clusters[0].type", "static_resources.clusters[1].connect_timeout"].sort(),
    );
  });

  test("a wasm module that is not a Proxy-Wasm plugin, and a root id the plugin does not declare", async () => {
    const pluginDir = join(dir, "plugin");
    await mkdir(join(pluginDir, "build"), { recursive: true });
    await writeFile(join(pluginDir, "build/plugin.wasm"), tinyPluginWasm());
    await writeFile(
      join(pluginDir, "wasmplugin.yaml"),
      "apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: { name: demo }\nspec:\n  url: oci://example.com/demo:1\n  pluginName: demo_root\n",
    );
    const doc = parse(base) as Doc;
    const wasm = hcmOf(doc).http_filters[0].typed_config.config;
    wasm.vm_config.code.local.filename = "build/plugin.wasm";
    wasm.root_id = "other_root";
    await writeFile(join(pluginDir, "envoy.yaml"), stringify(doc));
    const problems = errors(await validateConfigFiles([join(pluginDir, "envoy.yaml")]));
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]?.path ?? "", /\.root_id$/);
    assert.match(problems[0]?.message ?? "", /root_id "other_root" differs from pluginName "demo_root"/);

    await writeFile(join(pluginDir, "build/plugin.wasm"), Buffer.from("not wasm"));
    const broken = errors(await validateConfigFiles([join(pluginDir, "envoy.yaml")]));
    assert.match(broken[0]?.message ?? "", /is not a valid Wasm module/);
  });
});
