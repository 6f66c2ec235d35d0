import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { shippedConfigErrors } from "../../tcp-routing/test/support/shipped-configs.ts";

test("envoy.yaml, docker-compose.yaml and wasmplugin.yaml pass pwts validate", {
  timeout: 120_000,
}, async () => {
  assert.deepEqual(await shippedConfigErrors(fileURLToPath(new URL("..", import.meta.url))), []);
});
