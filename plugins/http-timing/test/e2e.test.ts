import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sendRequest } from "../../test-support/http-client.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { startTrainingStack, type TrainingStack } from "../../test-support/training-stack.ts";
import { eventually } from "../../test-support/waiting.ts";

let stack: TrainingStack;
before(async () => {
  stack = await startTrainingStack(pluginDirOf(import.meta.url));
});
after(async () => {
  await stack?.stop();
});

test("request timing and response classes show in /stats/prometheus under the seed's names", {
  timeout: 60_000,
}, async () => {
  for (const path of ["/get", "/status/201", "/status/404", "/status/503"]) {
    await sendRequest(`http://127.0.0.1:10007${path}`);
  }
  // The plugin records in on_log, after each response went out: wait until all four are in.
  let last = "";
  const text = await eventually(
    async () => {
      last = (await sendRequest("http://127.0.0.1:9908/stats/prometheus")).body;
      return /^wasm_http_inbound_duration_ms_count\{\} 4$/m.test(last) ? last : undefined;
    },
    () => `the histogram never counted 4 requests:\n${last}`,
  );
  assert.match(text, /^wasm_http_inbound_responses_total_2xx\{\} 2$/m);
  assert.match(text, /^wasm_http_inbound_responses_total_4xx\{\} 1$/m);
  assert.match(text, /^wasm_http_inbound_responses_total_5xx\{\} 1$/m);
  assert.match(text, /^# TYPE wasm_http_inbound_duration_ms histogram$/m);
  assert.match(text, /^wasm_http_inbound_duration_ms_bucket\{le="\+Inf"\} 4$/m);
  assert.match(text, /^wasm_http_outbound_duration_ms_count\{\} 0$/m);
});

test("log_requests prints one JSON line per request", { timeout: 60_000 }, async () => {
  await sendRequest("http://127.0.0.1:10007/anything/orders?token=abc");
  const line = await stack.proxy.waitForOutput(/"path":"\/anything\/orders"/);
  const json = JSON.parse(line.slice(line.indexOf("{")));
  assert.equal(json.direction, "inbound");
  assert.equal(json.method, "GET");
  assert.equal(json.status, 200);
  assert.ok(!line.includes("token=abc"));
});
