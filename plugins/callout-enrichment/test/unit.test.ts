import assert from "node:assert/strict";
import { before, test } from "node:test";
import { Action } from "@proxy-wasm-ts/host";
import type { PluginHarness } from "@proxy-wasm-ts/host/testing";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
import { rejectedConfigurationLogs, startBuiltPlugin } from "../../test-support/plugin-harness.ts";

const pluginDir = pluginDirOf(import.meta.url);
// Compiling can take a while on a busy machine: outside the tests' own timeouts.
before(() => buildPlugin(pluginDir));

function startRequest(t: PluginHarness, extra: Array<[string, string]> = []) {
  const http = t.http();
  const action = http.requestHeaders([
    [":method", "POST"],
    [":path", "/anything"],
    [":authority", "shop.local"],
    ...extra,
  ]);
  return { http, action, call: t.httpCalls.at(-1)! };
}

const ok = (body: unknown) => ({
  headers: [[":status", "200"]] as Array<[string, string]>,
  body: JSON.stringify(body),
});

test("pauses, calls the metadata cluster, sets x-meta from the answer and resumes", {
  timeout: 60_000,
}, async () => {
  const t = await startBuiltPlugin(pluginDir, "", { clusters: ["metadata"] });
  const { http, action, call } = startRequest(t, [["x-meta", "forged"]]);
  assert.equal(action, Action.Pause);
  assert.equal(http.requestHeader("x-meta"), undefined, "the client's x-meta is dropped");
  assert.equal(call.cluster, "metadata");
  assert.equal(call.timeoutMs, 1000);
  assert.equal(call.header(":method"), "GET");
  assert.equal(call.header(":path"), "/headers");
  assert.equal(call.header(":authority"), "metadata");
  assert.equal(call.header("x-forwarded-host"), "shop.local");
  // The request body waits with the request.
  assert.equal(http.requestBody("payload", true), Action.Pause);
  assert.equal(http.events.requestResumed, 0);

  call.respond(ok({ name: "metadata", headers: { Host: "metadata" } }));
  assert.equal(http.requestHeader("x-meta"), "metadata");
  assert.equal(http.events.requestResumed, 1);
  assert.equal(http.requestBodyText, "payload");
  assert.equal(t.counter("callout_enrichment_enriched_total"), 1n);
  assert.equal(t.counter("callout_enrichment_failures_total"), 0n);
});

test("the field, path, cluster, header and timeout are configurable", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(
    pluginDir,
    '{"cluster":"meta-svc","authority":"meta.internal","path":"/v1/tier","timeout_ms":250,"header":"X-Tier","field":"account.tier"}',
    { clusters: ["meta-svc"] },
  );
  const { http, call } = startRequest(t);
  assert.equal(call.cluster, "meta-svc");
  assert.equal(call.timeoutMs, 250);
  assert.equal(call.header(":path"), "/v1/tier");
  assert.equal(call.header(":authority"), "meta.internal");
  call.respond(ok({ account: { tier: "gold" } }));
  assert.equal(http.requestHeader("x-tier"), "gold");

  const seedStyle = await startBuiltPlugin(pluginDir, '{"field":""}');
  const second = startRequest(seedStyle);
  second.call.respond({ headers: [[":status", "200"]], body: "anything at all" });
  assert.equal(second.http.requestHeader("x-meta"), "1");
});

test("a callout timeout resumes without the header and is counted", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const { http } = startRequest(t);
  t.advance(999);
  assert.equal(http.events.requestResumed, 0);
  t.advance(1);
  assert.equal(http.events.requestResumed, 1);
  assert.equal(http.requestHeader("x-meta"), undefined);
  assert.equal(t.counter("callout_enrichment_failures_total"), 1n);
  // Envoy answers a timed-out callout with its own 504 response (not a failure).
  assert.ok(t.logs("warn").some((l) => l.includes("metadata service answered status 504")));
});

test("failed callouts and unusable answers resume without the header and are counted", {
  timeout: 60_000,
}, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const answers: Array<[string, (c: PluginHarness["httpCalls"][number]) => void, RegExp]> = [
    ["reset", (c) => c.fail(), /failed \(timeout, reset/],
    ["503", (c) => c.respond({ headers: [[":status", "503"]], body: "down" }), /answered status 503/],
    ["not json", (c) => c.respond({ headers: [[":status", "200"]], body: "<html>" }), /not JSON/],
    ["no field", (c) => c.respond(ok({ other: 1 })), /no field name/],
    ["object", (c) => c.respond(ok({ name: { a: 1 } })), /not a string or an integer/],
    ["crlf", (c) => c.respond(ok({ name: "a\r\nx-admin: 1" })), /control characters/],
    ["long", (c) => c.respond(ok({ name: "x".repeat(300) })), /longer than 256/],
    ["no :status", (c) => c.respond({ headers: [["x", "y"]], body: "{}" }), /answered status -1/],
  ];
  for (const [label, answer, reason] of answers) {
    const { http, call } = startRequest(t);
    answer(call);
    assert.equal(http.events.requestResumed, 1, label);
    assert.equal(http.requestHeader("x-meta"), undefined, label);
    assert.ok(
      t.logs("warn").some((l) => reason.test(l)),
      `${label}: ${t.logs("warn").join(" | ")}`,
    );
  }
  assert.equal(t.counter("callout_enrichment_failures_total"), BigInt(answers.length));
  assert.equal(t.counter("callout_enrichment_enriched_total"), 0n);
});

test("an unknown cluster continues at once without the header", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "", { clusters: ["httpbin"] });
  const { action, http } = startRequest(t);
  assert.equal(action, Action.Continue);
  assert.equal(http.requestHeader("x-meta"), undefined);
  assert.equal(t.counter("callout_enrichment_failures_total"), 1n);
  assert.ok(t.logs("warn").some((l) => l.includes("callout to cluster metadata could not start")));
});

test("a request that ends before the answer does not break the plugin", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const first = startRequest(t);
  first.http.complete();
  first.call.respond(ok({ name: "late" }));
  const second = startRequest(t);
  second.call.respond(ok({ name: "metadata" }));
  assert.equal(second.http.requestHeader("x-meta"), "metadata");
});

test("a bad configuration fails on_configure with a logged reason", { timeout: 60_000 }, async () => {
  const cases: Array<[string, RegExp]> = [
    ["[]", /must be a JSON object/],
    ['{"clustr":"x"}', /unknown configuration key "clustr"/],
    ['{"cluster":""}', /"cluster" must be a non-empty string/],
    ['{"path":"headers"}', /"path" must be a string starting with \//],
    ['{"timeout_ms":0}', /"timeout_ms" must be an integer/],
    ['{"timeout_ms":"5s"}', /"timeout_ms" must be an integer/],
    ['{"header":"x meta"}', /"header" must be a header name/],
    ['{"field":1}', /"field" must be a string/],
  ];
  for (const [configuration, reason] of cases) {
    const logs = await rejectedConfigurationLogs(pluginDir, configuration);
    assert.ok(
      logs.some((line) => /bad configuration/.test(line) && reason.test(line)),
      `${configuration}: ${logs.join(" | ")}`,
    );
  }
});
