import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { PluginHarness } from "@proxy-wasm-ts/host/testing";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
import { rejectedConfigurationLogs, startBuiltPlugin } from "../../test-support/plugin-harness.ts";

const pluginDir = pluginDirOf(import.meta.url);
// Compiling can take a while on a busy machine: outside the tests' own timeouts.
before(() => buildPlugin(pluginDir));
const INBOUND = 1;
const OUTBOUND = 2;

/** One request that takes `ms` of (manual) time and ends with `status` (undefined: no response at all). */
function exchange(
  t: PluginHarness,
  status: number | undefined,
  ms: number,
  properties = {},
  path = "/get?token=abc",
) {
  const http = t.http(properties);
  http.requestHeaders(
    [
      [":method", "GET"],
      [":path", path],
      [":authority", "httpbin:8080"],
    ],
    true,
  );
  t.advance(ms);
  if (status !== undefined) http.responseHeaders([[":status", String(status)]], true);
  http.complete();
}

test("inbound listener: duration histogram and response-class counters with the seed's names", {
  timeout: 60_000,
}, async () => {
  const t = await startBuiltPlugin(pluginDir, "", { properties: { listener_direction: INBOUND } });
  exchange(t, 200, 25);
  exchange(t, 204, 7);
  exchange(t, 404, 3);
  exchange(t, 503, 1200);
  assert.deepEqual(t.histogram("wasm_http_inbound_duration_ms"), [25n, 7n, 3n, 1200n]);
  assert.equal(t.counter("wasm_http_inbound_responses_total_2xx"), 2n);
  assert.equal(t.counter("wasm_http_inbound_responses_total_4xx"), 1n);
  assert.equal(t.counter("wasm_http_inbound_responses_total_5xx"), 1n);
  assert.equal(t.counter("wasm_http_inbound_responses_total_3xx"), 0n);
  assert.deepEqual(t.histogram("wasm_http_outbound_duration_ms"), []);
  const text = t.prometheus();
  assert.match(
    text,
    /^# TYPE wasm_http_inbound_responses_total_2xx counter\nwasm_http_inbound_responses_total_2xx\{\} 2$/m,
  );
  assert.match(text, /^# TYPE wasm_http_inbound_duration_ms histogram$/m);
  assert.match(text, /^wasm_http_inbound_duration_ms_count\{\} 4$/m);
  assert.match(text, /^wasm_http_inbound_duration_ms_bucket\{le="10"\} 2$/m);
});

test("outbound traffic is told apart by the listener direction", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  exchange(t, 302, 5, { listener_direction: OUTBOUND });
  exchange(t, 200, 9, { "xds.listener_direction": OUTBOUND });
  exchange(t, 200, 4, { listener_direction: INBOUND });
  assert.deepEqual(t.histogram("wasm_http_outbound_duration_ms"), [5n, 9n]);
  assert.deepEqual(t.histogram("wasm_http_inbound_duration_ms"), [4n]);
  assert.equal(t.counter("wasm_http_outbound_responses_total_3xx"), 1n);
  assert.equal(t.counter("wasm_http_outbound_responses_total_2xx"), 1n);
  assert.equal(t.counter("wasm_http_inbound_responses_total_2xx"), 1n);
});

test("a listener without direction counts as unspecified_direction; direction can be forced", {
  timeout: 60_000,
}, async () => {
  const byDefault = await startBuiltPlugin(pluginDir, "");
  exchange(byDefault, 200, 1);
  assert.equal(byDefault.counter("wasm_http_inbound_responses_total_2xx"), 1n);

  const outbound = await startBuiltPlugin(pluginDir, '{"unspecified_direction":"outbound"}');
  exchange(outbound, 200, 1);
  assert.equal(outbound.counter("wasm_http_outbound_responses_total_2xx"), 1n);

  const forced = await startBuiltPlugin(pluginDir, '{"direction":"outbound"}');
  exchange(forced, 200, 1, { listener_direction: INBOUND });
  assert.equal(forced.counter("wasm_http_outbound_responses_total_2xx"), 1n);
  assert.equal(forced.counter("wasm_http_inbound_responses_total_2xx"), 0n);
});

test("requests without a response, and 1xx, are counted apart", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  exchange(t, undefined, 30);
  exchange(t, 101, 2);
  assert.equal(t.counter("wasm_http_inbound_responses_total_other"), 1n);
  assert.equal(t.counter("wasm_http_inbound_responses_total_1xx"), 1n);
  assert.deepEqual(t.histogram("wasm_http_inbound_duration_ms"), [30n, 2n]);
});

test("log_requests writes one JSON line per request, query dropped and path truncated", {
  timeout: 60_000,
}, async () => {
  const t = await startBuiltPlugin(pluginDir, '{"log_requests":true,"path_max_length":12}', {
    properties: { listener_direction: OUTBOUND },
  });
  exchange(t, 200, 42, {}, "/anything/very/long/path?SECRET=abc");
  const lines = t.logs("info").filter((l) => l.startsWith("{"));
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    direction: "outbound",
    method: "GET",
    path: "/anything/ve",
    authority: "httpbin:8080",
    status: 200,
    duration_ms: 42,
  });
  const quiet = await startBuiltPlugin(pluginDir, "");
  exchange(quiet, 200, 1);
  assert.equal(quiet.logs("info").filter((l) => l.startsWith("{")).length, 0);
});

test("istio metric style: tags Envoy's stats_tags (Istio extraStatTags) extract", {
  timeout: 60_000,
}, async () => {
  const t = await startBuiltPlugin(pluginDir, '{"metric_style":"istio"}', {
    properties: { listener_direction: INBOUND },
  });
  exchange(t, 200, 12);
  exchange(t, 500, 3);
  // Istio's bootstrap adds one such rule per extraStatTags entry.
  const statsTags = ["direction", "response_class"].map((tag) => ({
    tagName: tag,
    regex: `(${tag}=\\.=(.*?);\\.;)`,
  }));
  const text = t.prometheus({ statsTags });
  assert.match(text, /^wasm_http_responses_total\{direction="inbound",response_class="2xx"\} 1$/m);
  assert.match(text, /^wasm_http_responses_total\{direction="inbound",response_class="5xx"\} 1$/m);
  assert.match(text, /^wasm_http_duration_ms_count\{direction="inbound"\} 2$/m);
});

test("a bad configuration fails on_configure with a logged reason", { timeout: 60_000 }, async () => {
  const cases: Array<[string, RegExp]> = [
    ['"x"', /must be a JSON object/],
    ['{"log":true}', /unknown configuration key "log"/],
    ['{"direction":"sideways"}', /"direction" must be/],
    ['{"unspecified_direction":"listener"}', /"unspecified_direction" must be/],
    ['{"metric_style":"prom"}', /"metric_style" must be/],
    ['{"log_requests":"yes"}', /"log_requests" must be true or false/],
    ['{"path_max_length":0}', /"path_max_length" must be an integer/],
  ];
  for (const [configuration, reason] of cases) {
    const logs = await rejectedConfigurationLogs(pluginDir, configuration);
    assert.ok(
      logs.some((line) => /bad configuration/.test(line) && reason.test(line)),
      `${configuration}: ${logs.join(" | ")}`,
    );
  }
});
