import assert from "node:assert/strict";
import { before, test } from "node:test";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
import { rejectedConfigurationLogs, startBuiltPlugin } from "../../test-support/plugin-harness.ts";

const pluginDir = pluginDirOf(import.meta.url);
// Compiling can take a while on a busy machine: outside the tests' own timeouts.
before(() => buildPlugin(pluginDir));
const request: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/get"],
  [":authority", "httpbin"],
];

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
