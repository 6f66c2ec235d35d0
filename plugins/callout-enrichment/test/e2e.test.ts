import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sendRequest } from "../../test-support/http-client.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { startTrainingStack, type TrainingStack } from "../../test-support/training-stack.ts";

let stack: TrainingStack;
before(async () => {
  stack = await startTrainingStack(pluginDirOf(import.meta.url), { metadata: true });
});
after(async () => {
  await stack?.stop();
});

async function prometheus(): Promise<string> {
  return (await sendRequest("http://127.0.0.1:9907/stats/prometheus")).body;
}

test("the metadata service's answer arrives upstream as x-meta", { timeout: 60_000 }, async () => {
  const answer = await sendRequest("http://127.0.0.1:10006/headers", { headers: { "x-meta": "forged" } });
  assert.equal(answer.status, 200);
  // The metadata echo names itself "metadata" in its JSON answer; httpbin shows the header it received.
  assert.equal(JSON.parse(answer.body).headers["X-Meta"], "metadata");
  assert.match(await prometheus(), /^callout_enrichment_enriched_total\{\} 1$/m);
});

test("with the metadata service down the request still succeeds, without x-meta, and is counted", {
  timeout: 60_000,
}, async () => {
  await stack.stopMetadata();
  const answer = await sendRequest("http://127.0.0.1:10006/headers");
  assert.equal(answer.status, 200);
  assert.equal(JSON.parse(answer.body).headers["X-Meta"], undefined);
  assert.match(await prometheus(), /^callout_enrichment_failures_total\{\} 1$/m);
  // Envoy's async client answers a connect failure with its router's 503 reply, as a response.
  await stack.proxy.waitForOutput(/continues without x-meta: metadata service answered status 503/);
});
