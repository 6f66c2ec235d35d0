import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sendRequest } from "../../test-support/http-client.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { startTrainingStack, type TrainingStack } from "../../test-support/training-stack.ts";

let stack: TrainingStack;
before(async () => {
  stack = await startTrainingStack(pluginDirOf(import.meta.url));
});
after(async () => {
  await stack?.stop();
});

test("x-training: envoy-wasm reaches the upstream and comes back on the response", {
  timeout: 60_000,
}, async () => {
  const answer = await sendRequest("http://127.0.0.1:10003/headers", { headers: { "x-training": "forged" } });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["x-training"], "envoy-wasm");
  // httpbin's /headers shows what the upstream received, in Title-Case.
  assert.equal(JSON.parse(answer.body).headers["X-Training"], "envoy-wasm");
});
