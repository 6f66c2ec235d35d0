import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type EchoServer, startEcho } from "@proxy-wasm-ts/echo";
import { type PwtsRun, sendRequest, startPwtsRun } from "../../test-support/local-data-plane.ts";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";

const pluginDir = pluginDirOf(import.meta.url);
let httpbin: EchoServer;
let proxy: PwtsRun;

before(async () => {
  await buildPlugin(pluginDir);
  httpbin = await startEcho({ host: "127.0.0.50", port: 8080, name: "httpbin" });
  proxy = await startPwtsRun(join(pluginDir, "envoy.yaml"));
});

after(async () => {
  await proxy?.stop();
  await httpbin?.close();
});

test("x-training: envoy-wasm reaches the upstream and comes back on the response", {
  timeout: 240_000,
}, async () => {
  const answer = await sendRequest("http://127.0.0.1:10003/headers", { headers: { "x-training": "forged" } });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["x-training"], "envoy-wasm");
  // httpbin's /headers shows what the upstream received, in Title-Case.
  assert.equal(JSON.parse(answer.body).headers["X-Training"], "envoy-wasm");
});
