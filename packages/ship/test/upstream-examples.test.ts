/**
 * Conformance with the upstream projects' own examples (fixtures/upstream/README.md says where each comes
 * from): every valid one passes, every invalid one fails, with upstream's message where the check is a CEL
 * rule whose message we carry.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { validateKubernetesResource } from "../src/index.ts";

const dir = join(import.meta.dirname, "fixtures", "upstream");

/** The documents of a fixture, with upstream's expected-error keys split off (its harness strips them). */
async function documents(file: string) {
  const docs = parseAllDocuments(await readFile(join(dir, file), "utf8"));
  return docs
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null)
    .map(({ _err, _err2, ...resource }) => ({
      resource,
      expected: [_err, _err2].filter((e): e is string => typeof e === "string"),
    }));
}

async function errorsOf(resource: Record<string, unknown>) {
  return (await validateKubernetesResource(resource)).filter((p) => p.severity !== "warning");
}

describe("upstream examples", () => {
  test("istio/api wasm-valid.yaml: all 13 accepted", async () => {
    const docs = await documents("istio-wasm-valid.yaml");
    assert.equal(docs.length, 13);
    for (const { resource } of docs) {
      assert.deepEqual(await errorsOf(resource), [], JSON.stringify(resource.metadata));
    }
  });

  test("istio/api wasm-invalid.yaml: all 12 rejected, CEL ones with upstream's message", async () => {
    const docs = await documents("istio-wasm-invalid.yaml");
    assert.equal(docs.length, 12);
    for (const { resource, expected } of docs) {
      const errors = await errorsOf(resource);
      assert.ok(errors.length > 0, `accepted ${expected[0]}`);
      const [want] = expected;
      if (want && /must have schema|valueFrom is INLINE/.test(want)) {
        assert.ok(
          errors.some((e) => e.message.includes(want)),
          `${want}: ${JSON.stringify(errors)}`,
        );
      } else if (want) {
        // Schema errors: upstream names the field path first (`spec.url in body ...`).
        const path = /^(spec[\w.[\]]*)/.exec(want)?.[1]?.replace(/:$/, "");
        // ajv reports a missing property on its parent: `spec.match[0].ports[0]` + `number`.
        const at = (e: { path: string; message: string }) => [
          e.path,
          `${e.path}.${/required property (\w+)/.exec(e.message)?.[1]}`,
        ];
        assert.ok(
          errors.some((e) => at(e).includes(path ?? "")),
          `${want}: ${JSON.stringify(errors)}`,
        );
      }
    }
  });

  test("istio/api traffic_extension.proto examples: all 8 accepted", async () => {
    const docs = await documents("istio-trafficextension-examples.yaml");
    assert.equal(docs.length, 8);
    for (const { resource } of docs) {
      assert.deepEqual(await errorsOf(resource), [], JSON.stringify(resource.metadata));
    }
  });

  test("envoyproxy/gateway EnvoyExtensionPolicy target cases: 2 accepted, 5 rejected with upstream's message", async () => {
    const docs = await documents("envoy-gateway-eep-targets.yaml");
    assert.equal(docs.filter((d) => d.expected.length === 0).length, 2);
    assert.equal(docs.filter((d) => d.expected.length > 0).length, 5);
    for (const { resource, expected } of docs) {
      const errors = await errorsOf(resource);
      if (expected.length === 0) assert.deepEqual(errors, []);
      for (const want of expected) {
        assert.ok(
          errors.some((e) => e.path === "spec" && e.message.startsWith(want)),
          `${want}: ${JSON.stringify(errors)}`,
        );
      }
    }
  });
});
