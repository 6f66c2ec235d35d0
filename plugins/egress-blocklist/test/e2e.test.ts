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

test("a host under .example.com gets 451 'blocked by wasm' and never reaches httpbin", {
  timeout: 60_000,
}, async () => {
  const answer = await sendRequest("http://127.0.0.1:10005/get", {
    headers: { host: "API.Example.com:8080" },
  });
  assert.equal(answer.status, 451);
  assert.equal(answer.body, "blocked by wasm");
  assert.equal(answer.headers["x-echo-name"], undefined);
  await stack.proxy.waitForOutput(/blocked api\.example\.com \(rule \.example\.com\)/);
});

test("other hosts are proxied to httpbin", { timeout: 60_000 }, async () => {
  const answer = await sendRequest("http://127.0.0.1:10005/get", { headers: { host: "example.com" } });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["x-echo-name"], "httpbin");
});
