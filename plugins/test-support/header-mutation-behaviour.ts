/**
 * header-mutation's behaviour, asserted against a built plugin directory: the AssemblyScript plugin and its
 * TypeScript twin (plugins/header-mutation-ts) run the same tests.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sendRequest } from "./http-client.ts";
import { buildPlugin } from "./plugin-build.ts";
import { rejectedConfigurationLogs, startBuiltPlugin } from "./plugin-harness.ts";
import { startTrainingStack, type TrainingStack } from "./training-stack.ts";

const request: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/get"],
  [":authority", "httpbin"],
];

/** The harness tests (unit.test.ts) for the plugin in `pluginDir`. */
export function headerMutationUnitTests(pluginDir: string): void {
  // Compiling can take a while on a busy machine: outside the tests' own timeouts.
  before(() => buildPlugin(pluginDir));

  test("adds x-training: envoy-wasm to the request and the response by default", {
    timeout: 60_000,
  }, async () => {
    const t = await startBuiltPlugin(pluginDir, "");
    const http = t.http();
    http.requestHeaders(request, true);
    assert.equal(http.requestHeader("x-training"), "envoy-wasm");
    http.responseHeaders([[":status", "200"]], true);
    assert.equal(http.responseHeader("x-training"), "envoy-wasm");
    http.complete();
  });

  test("replaces a value the client or upstream already sent", { timeout: 60_000 }, async () => {
    const t = await startBuiltPlugin(pluginDir, "{}");
    const http = t.http();
    http.requestHeaders([...request, ["x-training", "forged"], ["x-training", "forged-again"]], true);
    assert.deepEqual(
      http.requestHeadersList.filter(([name]) => name === "x-training"),
      [["x-training", "envoy-wasm"]],
    );
    http.responseHeaders([
      [":status", "200"],
      ["x-training", "from-upstream"],
    ]);
    assert.equal(http.responseHeader("x-training"), "envoy-wasm");
  });

  test("header, value and sides are configurable", { timeout: 60_000 }, async () => {
    const t = await startBuiltPlugin(pluginDir, '{"header":"X-Team","value":"platform","response":false}');
    const http = t.http();
    http.requestHeaders(request, true);
    assert.equal(http.requestHeader("x-team"), "platform");
    assert.equal(http.requestHeader("x-training"), undefined);
    http.responseHeaders([[":status", "200"]], true);
    assert.equal(http.responseHeader("x-team"), undefined);
  });

  test("a bad configuration fails on_configure with a logged reason", { timeout: 60_000 }, async () => {
    const cases: Array<[string, RegExp]> = [
      ["not json", /must be a JSON object/],
      ["[1]", /must be a JSON object/],
      ['{"headr":"x"}', /unknown configuration key "headr"/],
      ['{"header":""}', /"header" must not be empty/],
      ['{"header":":path"}', /not a valid header name/],
      ['{"header":"x bad"}', /not a valid header name/],
      ['{"value":"a\\r\\nx-injected: 1"}', /control characters/],
      ['{"value":7}', /"value" must be a string/],
      ['{"request":"yes"}', /"request" must be true or false/],
    ];
    for (const [configuration, reason] of cases) {
      const logs = await rejectedConfigurationLogs(pluginDir, configuration);
      assert.ok(
        logs.some((line) => /bad configuration/.test(line) && reason.test(line)),
        `${configuration}: ${logs.join(" | ")}`,
      );
    }
  });
}

/** The end-to-end test (e2e.test.ts): the plugin under `pwts run` with its envoy.yaml, listening on `port`. */
export function headerMutationEndToEndTests(pluginDir: string, port: number): void {
  let stack: TrainingStack;
  before(async () => {
    stack = await startTrainingStack(pluginDir);
  });
  after(async () => {
    await stack?.stop();
  });

  test("x-training: envoy-wasm reaches the upstream and comes back on the response", {
    timeout: 60_000,
  }, async () => {
    const answer = await sendRequest(`http://127.0.0.1:${port}/headers`, {
      headers: { "x-training": "forged" },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["x-training"], "envoy-wasm");
    // httpbin's /headers shows what the upstream received, in Title-Case.
    assert.equal(JSON.parse(answer.body).headers["X-Training"], "envoy-wasm");
  });
}
