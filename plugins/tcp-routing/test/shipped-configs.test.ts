import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatProblem, validateConfigFiles } from "@proxy-wasm-ts/ship";

const pluginDir = fileURLToPath(new URL("..", import.meta.url));

test("envoy.yaml, docker-compose.yaml and wasmplugin.yaml pass pwts validate", {
  timeout: 120_000,
}, async () => {
  const files = ["envoy.yaml", "docker-compose.yaml", "wasmplugin.yaml"].map((f) => `${pluginDir}${f}`);
  const errors = (await validateConfigFiles(files)).filter((p) => p.severity === "error");
  assert.deepEqual(errors.map(formatProblem), []);
});
