/**
 * The three shipping targets: each kind's validator reports a wrong field type, a missing required field
 * and a broken CEL rule at its field path; version checks; and `deployManifests` generating each target
 * from one plugin folder (envoy.yaml + deploy.yaml), pinned by digest.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  deployManifests,
  validateEnvoyExtensionPolicy,
  validateEnvoyPatchPolicy,
  validateTrafficExtension,
  validateWasmPlugin,
} from "../src/index.ts";

// biome-ignore lint/suspicious/noExplicitAny: test resources are read and mutated freely
type Loose = Record<string, any>;

const digest = `sha256:${"ab".repeat(32)}`;
const image = `ghcr.io/org/demo@${digest}`;

const wasmPlugin = {
  apiVersion: "extensions.istio.io/v1alpha1",
  kind: "WasmPlugin",
  metadata: { name: "demo" },
  spec: { url: `oci://${image}`, sha256: digest.slice(7), phase: "AUTHN" },
};
const trafficExtension = {
  apiVersion: "extensions.istio.io/v1alpha1",
  kind: "TrafficExtension",
  metadata: { name: "demo" },
  spec: { phase: "AUTHN", wasm: { url: `oci://${image}`, sha256: digest.slice(7) } },
};
const extensionPolicy = {
  apiVersion: "gateway.envoyproxy.io/v1alpha1",
  kind: "EnvoyExtensionPolicy",
  metadata: { name: "demo" },
  spec: {
    targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "eg" }],
    wasm: [{ name: "demo", code: { type: "Image", image: { url: image } }, failOpen: false }],
  },
};

type Problem = { path: string; message: string; severity?: string };
function hasProblem(problems: Problem[], path: string, message: RegExp): void {
  assert.ok(
    problems.some((p) => p.path === path && message.test(p.message) && p.severity !== "warning"),
    `expected ${message} at ${path}; got ${JSON.stringify(problems)}`,
  );
}
const clone = <T>(v: T): T => structuredClone(v);

describe("each kind: wrong type, missing required field, broken CEL rule", () => {
  test("the valid resources pass", () => {
    assert.deepEqual(validateWasmPlugin(wasmPlugin), []);
    assert.deepEqual(validateTrafficExtension(trafficExtension), []);
    assert.deepEqual(validateEnvoyExtensionPolicy(extensionPolicy), []);
  });

  test("WasmPlugin", () => {
    const wrongType = clone(wasmPlugin) as Loose;
    wrongType.spec.priority = "high";
    hasProblem(validateWasmPlugin(wrongType), "spec.priority", /must be integer/);
    const missing = clone(wasmPlugin) as Loose;
    delete missing.spec.url;
    hasProblem(validateWasmPlugin(missing), "spec", /required property url/);
    const cel = clone(wasmPlugin) as Loose;
    cel.spec.selector = { matchLabels: { app: "x" } };
    cel.spec.targetRefs = [{ kind: "Gateway", name: "gw" }];
    hasProblem(validateWasmPlugin(cel), "spec", /only one of targetRefs or selector can be set/);
    const groupKind = clone(wasmPlugin) as Loose;
    groupKind.spec.targetRefs = [{ group: "networking.istio.io", kind: "Gateway", name: "gw" }];
    hasProblem(validateWasmPlugin(groupKind), "spec.targetRefs[0]", /Support kinds are core\/Service/);
  });

  test("TrafficExtension (paths under spec.wasm)", () => {
    const wrongType = clone(trafficExtension) as Loose;
    wrongType.spec.wasm.failStrategy = 3;
    hasProblem(validateTrafficExtension(wrongType), "spec.wasm.failStrategy", /must be string/);
    const missing = clone(trafficExtension) as Loose;
    delete missing.spec.wasm.url;
    hasProblem(validateTrafficExtension(missing), "spec.wasm", /required property url/);
    const cel = clone(trafficExtension) as Loose;
    cel.spec.lua = { inlineCode: "function envoy_on_request(h) end" };
    hasProblem(validateTrafficExtension(cel), "spec", /exactly one of wasm or lua must be set/);
    const wasmPluginPhase = clone(trafficExtension) as Loose;
    wasmPluginPhase.spec.phase = "UNSPECIFIED_PHASE";
    hasProblem(validateTrafficExtension(wasmPluginPhase), "spec.phase", /UNSPECIFIED, AUTHN, AUTHZ, STATS/);
    wasmPluginPhase.spec.phase = "UNSPECIFIED";
    assert.deepEqual(validateTrafficExtension(wasmPluginPhase), []);
    const badUrl = clone(trafficExtension) as Loose;
    badUrl.spec.wasm = { url: "fake://example.com" };
    hasProblem(validateTrafficExtension(badUrl), "spec.wasm.url", /url must have schema one of/);
  });

  test("EnvoyExtensionPolicy", () => {
    const wrongType = clone(extensionPolicy) as Loose;
    wrongType.spec.wasm[0].failOpen = "yes";
    hasProblem(validateEnvoyExtensionPolicy(wrongType), "spec.wasm[0].failOpen", /must be boolean/);
    const missing = clone(extensionPolicy) as Loose;
    delete missing.spec.wasm[0].code.image.url;
    hasProblem(validateEnvoyExtensionPolicy(missing), "spec.wasm[0].code.image", /required property url/);
    const cel = clone(extensionPolicy) as Loose;
    cel.spec.wasm[0].code.type = "HTTP";
    hasProblem(
      validateEnvoyExtensionPolicy(cel),
      "spec.wasm[0].code",
      /If type is HTTP, http field needs to be set/,
    );
    const typo = clone(extensionPolicy) as Loose;
    typo.spec.wasm[0].failopen = true;
    hasProblem(validateEnvoyExtensionPolicy(typo), "spec.wasm[0].failopen", /unknown field "failopen"/);
    const target = clone(extensionPolicy) as Loose;
    target.spec.targetRefs[0].kind = "Service";
    hasProblem(validateEnvoyExtensionPolicy(target), "spec", /targetRefs\[\*\]\.kind of Gateway/);
  });
});

describe("EnvoyPatchPolicy (callout clusters on Envoy Gateway)", () => {
  const patchPolicy = {
    apiVersion: "gateway.envoyproxy.io/v1alpha1",
    kind: "EnvoyPatchPolicy",
    metadata: { name: "demo-callouts" },
    spec: {
      targetRef: { group: "gateway.networking.k8s.io", kind: "Gateway", name: "eg" },
      type: "JSONPatch",
      jsonPatches: [
        {
          type: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
          name: "metadata",
          operation: {
            op: "add",
            path: "",
            value: { name: "metadata", connect_timeout: "2s", type: "STRICT_DNS" },
          },
        },
      ],
    },
  };

  test("valid passes; a missing type and a bad added cluster are reported at their paths", async () => {
    assert.deepEqual(await validateEnvoyPatchPolicy(patchPolicy), []);
    const broken = clone(patchPolicy) as Loose;
    delete broken.spec.type;
    broken.spec.jsonPatches[0].operation.value.connect_timeout = "soon";
    const problems = await validateEnvoyPatchPolicy(broken);
    hasProblem(problems, "spec", /required property type/);
    hasProblem(
      problems,
      "spec.jsonPatches[0].operation.value.connect_timeout",
      /Duration.*\(Envoy Cluster\)/,
    );
  });
});

describe("version checks", () => {
  test("failOpen: an error from Istio 1.29 on, a deprecation warning before", () => {
    const withFailOpen = { ...wasmPlugin, spec: { ...wasmPlugin.spec, failOpen: true } };
    hasProblem(validateWasmPlugin(withFailOpen), "spec.failOpen", /removed in 1\.29.*FAIL_OPEN/);
    const old = validateWasmPlugin(withFailOpen, { istio: "1.28" });
    assert.deepEqual(
      old.map((p) => [p.path, p.severity]),
      [["spec.failOpen", "warning"]],
    );
  });

  test("FAIL_RELOAD before Istio 1.29, TrafficExtension before 1.30, EnvoyExtensionPolicy before Envoy Gateway 1.1", () => {
    const reload = { ...wasmPlugin, spec: { ...wasmPlugin.spec, failStrategy: "FAIL_RELOAD" } };
    assert.deepEqual(validateWasmPlugin(reload), []);
    hasProblem(
      validateWasmPlugin(reload, { istio: "1.28.3" }),
      "spec.failStrategy",
      /arrived in Istio 1\.29/,
    );
    hasProblem(validateTrafficExtension(trafficExtension, { istio: "1.29" }), "(root)", /needs Istio 1\.30/);
    hasProblem(
      validateEnvoyExtensionPolicy(extensionPolicy, { envoyGateway: "1.0" }),
      "(root)",
      /Gateway 1\.1/,
    );
    const singular = clone(extensionPolicy) as Loose;
    singular.spec.targetRef = singular.spec.targetRefs[0];
    delete singular.spec.targetRefs;
    assert.deepEqual(
      validateEnvoyExtensionPolicy(singular).map((p) => [p.path, p.severity]),
      [["spec.targetRef", "warning"]],
    );
  });
});

describe("deployManifests: one plugin folder, three targets", { timeout: 120_000 }, () => {
  let plugin: string;
  const seeds = join(import.meta.dirname, "fixtures", "seeds");
  before(async () => {
    plugin = await mkdtemp(join(tmpdir(), "pwts-deploy-"));
    // Seed 004 lab 3: an HTTP filter plus the `metadata` cluster it calls out to.
    await writeFile(join(plugin, "envoy.yaml"), await readFile(join(seeds, "004-lab3", "envoy.yaml")));
    await writeFile(
      join(plugin, "deploy.yaml"),
      [
        "image: ghcr.io/org/lab3:0.1.0",
        "namespace: shop",
        "phase: AUTHZ",
        "failStrategy: FAIL_OPEN",
        "callouts: [metadata]",
        "istio: { selector: { app: httpbin } }",
        "envoyGateway: { targetRefs: [{ kind: Gateway, name: eg }] }",
        "",
      ].join("\n"),
    );
  });
  after(async () => {
    await rm(plugin, { recursive: true, force: true });
  });

  test("istio-wasmplugin and istio-trafficextension carry the description, pinned by digest", async () => {
    const wp = await deployManifests(plugin, { target: "istio-wasmplugin", digest });
    assert.deepEqual(wp.problems, []);
    assert.deepEqual(
      wp.resources.map((r) => r.kind),
      ["WasmPlugin", "ServiceEntry", "EnvoyFilter"],
    );
    const wpSpec = wp.resources[0]?.spec as Record<string, unknown>;
    assert.equal(wpSpec.url, `oci://ghcr.io/org/lab3@${digest}`);
    assert.equal(wpSpec.phase, "AUTHZ");
    assert.deepEqual(wpSpec.selector, { matchLabels: { app: "httpbin" } });
    const te = await deployManifests(plugin, { target: "istio-trafficextension", digest, phase: "STATS" });
    assert.deepEqual(te.problems, []);
    const teSpec = te.resources[0]?.spec as Loose;
    assert.equal(te.resources[0]?.kind, "TrafficExtension");
    assert.equal(teSpec.phase, "STATS", "a flag overrides deploy.yaml");
    assert.equal(teSpec.wasm.sha256, digest.slice(7));
    assert.equal(teSpec.wasm.failStrategy, "FAIL_OPEN");
    assert.equal(teSpec.url, undefined);
  });

  test("envoy-gateway: EnvoyExtensionPolicy pinned by digest, EnvoyPatchPolicy adding the callout cluster", async () => {
    const eg = await deployManifests(plugin, { target: "envoy-gateway", digest });
    assert.deepEqual(eg.problems, []);
    assert.deepEqual(
      eg.resources.map((r) => r.kind),
      ["EnvoyExtensionPolicy", "EnvoyPatchPolicy"],
    );
    const wasm = (eg.resources[0] as Loose).spec.wasm[0];
    assert.equal(wasm.code.image.url, `ghcr.io/org/lab3@${digest}`);
    assert.equal(wasm.failOpen, true);
    const patch = (eg.resources[1] as Loose).spec.jsonPatches[0];
    assert.equal(patch.name, "metadata");
    assert.ok(eg.warnings.some((w) => /enableEnvoyPatchPolicy/.test(w)));
  });

  test("envoy-gateway refuses a network filter, naming why", async () => {
    const tcp = await mkdtemp(join(tmpdir(), "pwts-deploy-tcp-"));
    try {
      const tcpEnvoy = join(import.meta.dirname, "..", "..", "..", "plugins", "tcp-routing", "envoy.yaml");
      await writeFile(join(tcp, "envoy.yaml"), await readFile(tcpEnvoy));
      await assert.rejects(
        deployManifests(tcp, {
          target: "envoy-gateway",
          image,
          targetRefs: [{ kind: "Gateway", name: "eg" }],
        }),
        /network \(L4\) Wasm filter; Envoy Gateway's EnvoyExtensionPolicy runs HTTP Wasm filters only/,
      );
    } finally {
      await rm(tcp, { recursive: true, force: true });
    }
  });

  test("a bad deploy.yaml is one error naming the file and field", async () => {
    const bad = await mkdtemp(join(tmpdir(), "pwts-deploy-bad-"));
    try {
      await writeFile(join(bad, "deploy.yaml"), "phase: LATE\n");
      await assert.rejects(
        deployManifests(bad, { target: "istio-wasmplugin", image }),
        /deploy\.yaml: phase: /,
      );
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
