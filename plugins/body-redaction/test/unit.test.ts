import assert from "node:assert/strict";
import { before, test } from "node:test";
import { Action } from "@proxy-wasm-ts/host";
import type { PluginHarness } from "@proxy-wasm-ts/host/testing";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
import { rejectedConfigurationLogs, startBuiltPlugin } from "../../test-support/plugin-harness.ts";

const pluginDir = pluginDirOf(import.meta.url);
// Compiling can take a while on a busy machine: outside the tests' own timeouts.
before(() => buildPlugin(pluginDir));

function respond(t: PluginHarness, headers: Array<[string, string]>, chunks: Array<string | Uint8Array>) {
  const http = t.http();
  http.requestHeaders(
    [
      [":method", "GET"],
      [":path", "/anything"],
      [":authority", "httpbin"],
    ],
    true,
  );
  http.responseHeaders([[":status", "200"], ...headers]);
  const actions = chunks.map((chunk, i) => http.responseBody(chunk, i === chunks.length - 1));
  return { http, actions };
}

test("SECRET=value becomes SECRET=[REDACTED] across chunks, content-length dropped", {
  timeout: 60_000,
}, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const body = "token SECRET=topsecret&next=1\nSECRET=again";
  const { http, actions } = respond(
    t,
    [["content-length", String(body.length)]],
    ["token SECRET=top", "secret&next=1\nSEC", "RET=again"],
  );
  assert.deepEqual(actions, [Action.Pause, Action.Pause, Action.Continue]);
  assert.equal(http.responseBodyText, "token SECRET=[REDACTED]&next=1\nSECRET=[REDACTED]");
  assert.equal(http.responseHeader("content-length"), undefined);
  assert.equal(t.counter("body_redaction_redacted_total"), 1n);
  // Per body at debug level only (the harness logs at trace): at info a sidecar would print a line per request.
  assert.ok(t.logs("debug").some((l) => l.includes("redacted 2 secret(s) in a 42-byte body")));
  assert.ok(!t.logs("info").some((l) => l.includes("redacted")));
});

test("JSON members and query strings in an httpbin answer are both redacted", {
  timeout: 60_000,
}, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const answer = JSON.stringify(
    { args: { SECRET: 'top"secret' }, url: "http://httpbin/anything?SECRET=topsecret&a=b" },
    null,
    2,
  );
  const { http } = respond(t, [["content-type", "application/json"]], [answer]);
  const redacted = JSON.parse(http.responseBodyText);
  assert.deepEqual(redacted, {
    args: { SECRET: "[REDACTED]" },
    url: "http://httpbin/anything?SECRET=[REDACTED]&a=b",
  });
  assert.ok(!http.responseBodyText.includes("topsecret"));
});

test("bodies without secrets are forwarded byte for byte, binary included", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const binary = new Uint8Array([0xff, 0xfe, 0x00, 0x53, 0x45, 0x43, 0x52, 0x45, 0x54, 0x80, 0xc3]);
  const { http } = respond(t, [], [binary]);
  assert.deepEqual(http.responseBodyBytes, binary);
  assert.equal(t.counter("body_redaction_redacted_total"), 0n);
  // Invalid UTF-8 around a secret stays as it was; only the value changes.
  const mixed = new Uint8Array([0xff, ...new TextEncoder().encode("SECRET=abc"), 0x20, 0xfe]);
  const second = respond(t, [], [mixed]).http;
  assert.deepEqual(
    second.responseBodyBytes,
    new Uint8Array([0xff, ...new TextEncoder().encode("SECRET=[REDACTED]"), 0x20, 0xfe]),
  );
});

test("names and replacement are configurable", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, '{"secrets":["password","api_key"],"replacement":"***"}');
  const { http } = respond(t, [], ["password=hunter2;api_key=k-123 SECRET=kept"]);
  assert.equal(http.responseBodyText, "password=***;api_key=*** SECRET=kept");
});

test("a body over max_body_bytes passes through unchanged, and the log says why", {
  timeout: 60_000,
}, async () => {
  const t = await startBuiltPlugin(pluginDir, '{"max_body_bytes":16}');
  const declared = respond(t, [["content-length", "26"]], ["SECRET=topsecret 123456789"]);
  assert.equal(declared.http.responseBodyText, "SECRET=topsecret 123456789");
  assert.equal(declared.http.responseHeader("content-length"), "26");
  assert.ok(t.logs("info").some((l) => l.includes("content-length 26 exceeds max_body_bytes 16")));

  // Without content-length the cap is found while buffering: what was held is released as it was.
  const streamed = respond(t, [], ["SECRET=topsecret", " and more", " and the end"]);
  assert.deepEqual(streamed.actions, [Action.Pause, Action.Continue, Action.Continue]);
  assert.equal(streamed.http.responseBodyText, "SECRET=topsecret and more and the end");
  assert.ok(t.logs("info").some((l) => l.includes("body reached 25 bytes, over max_body_bytes 16")));
  assert.equal(t.counter("body_redaction_passed_through_total"), 2n);
});

test("compressed bodies pass through with a logged reason", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const { http, actions } = respond(
    t,
    [
      ["content-encoding", "gzip"],
      ["content-length", "13"],
    ],
    ["SECRET=abcdef"],
  );
  assert.deepEqual(actions, [Action.Continue]);
  assert.equal(http.responseBodyText, "SECRET=abcdef");
  assert.equal(http.responseHeader("content-length"), "13");
  assert.ok(t.logs("info").some((l) => l.includes("content-encoding gzip")));
});

test("a body followed by trailers is redacted at the trailers", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const { http, actions } = respond(t, [], ["SECRET=a", "bc rest"]);
  // Both chunks are held (no end of stream yet: trailers follow).
  http.responseTrailers([["grpc-status", "0"]]);
  assert.equal(actions[0], Action.Pause);
  assert.equal(http.responseBodyText, "SECRET=[REDACTED] rest");
});

test("hostile bodies do not trap: unterminated values and strings", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  const cases: Array<[string, string]> = [
    ["SECRET=", "SECRET=[REDACTED]"],
    ["SECRET", "SECRET"],
    ['{"SECRET": "never closed', '{"SECRET": "[REDACTED]'],
    ['{"SECRET": "esc\\', '{"SECRET": "[REDACTED]'],
    ['{"SECRET" 1}', '{"SECRET" 1}'],
    ['"SECRET":', '"SECRET":'],
  ];
  for (const [body, expected] of cases) {
    assert.equal(respond(t, [], [body]).http.responseBodyText, expected, body);
  }
});

test("a bad configuration fails on_configure with a logged reason", { timeout: 60_000 }, async () => {
  const cases: Array<[string, RegExp]> = [
    ["nope", /must be a JSON object/],
    ['{"secret":["A"]}', /unknown configuration key "secret"/],
    ['{"secrets":[]}', /"secrets" must be a non-empty array/],
    ['{"secrets":["A",""]}', /"secrets" must be a non-empty array/],
    ['{"secrets":["A=B"]}', /must not contain/],
    ['{"replacement":1}', /"replacement" must be a string/],
    ['{"max_body_bytes":0}', /"max_body_bytes" must be an integer/],
    ['{"max_body_bytes":"1"}', /"max_body_bytes" must be an integer/],
  ];
  for (const [configuration, reason] of cases) {
    const logs = await rejectedConfigurationLogs(pluginDir, configuration);
    assert.ok(
      logs.some((line) => /bad configuration/.test(line) && reason.test(line)),
      `${configuration}: ${logs.join(" | ")}`,
    );
  }
});
