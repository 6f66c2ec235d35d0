import assert from "node:assert/strict";
import { test } from "node:test";
import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { shippedConfigErrors } from "../../test-support/shipped-configs.ts";

test("envoy.yaml, docker-compose.yaml and wasmplugin.yaml pass pwts validate", {
  timeout: 120_000,
}, async () => {
  assert.deepEqual(await shippedConfigErrors(pluginDirOf(import.meta.url)), []);
});
