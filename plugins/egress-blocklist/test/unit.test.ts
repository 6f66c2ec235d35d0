import assert from "node:assert/strict";
import { before, test } from "node:test";
import { Action } from "@proxy-wasm-ts/host";
import type { PluginHarness } from "@proxy-wasm-ts/host/testing";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
import { rejectedConfigurationLogs, startBuiltPlugin } from "../../test-support/plugin-harness.ts";

const pluginDir = pluginDirOf(import.meta.url);
// Compiling can take a while on a busy machine: outside the tests' own timeouts.
before(() => buildPlugin(pluginDir));

function send(t: PluginHarness, authority: string) {
  const http = t.http();
  const action = http.requestHeaders(
    [
      [":method", "GET"],
      [":path", "/get"],
      [":authority", authority],
    ],
    true,
  );
  return { http, action };
}

test("answers 451 'blocked by wasm' for hosts under .example.com", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  for (const authority of [
    "api.example.com",
    "API.Example.COM:8443",
    "deep.api.example.com.",
    "user@x.example.com",
  ]) {
    const { http, action } = send(t, authority);
    assert.equal(action, Action.Pause, authority);
    assert.equal(http.localReply?.statusCode, 451, authority);
    assert.equal(http.localReplyBodyText, "blocked by wasm");
    assert.equal(http.localReply?.details, "egress_blocklist");
  }
  assert.equal(t.counter("egress_blocklist_blocked_total"), 4n);
  assert.ok(t.logs("info").some((l) => l.includes("blocked api.example.com (rule .example.com)")));
});

test("lets other hosts through, including look-alikes", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  for (const authority of [
    "example.com",
    "badexample.com",
    "example.com.evil.net",
    "httpbin:8080",
    "127.0.0.1:10005",
  ]) {
    const { http, action } = send(t, authority);
    assert.equal(action, Action.Continue, authority);
    assert.equal(http.localReply, null, authority);
  }
  assert.equal(t.counter("egress_blocklist_blocked_total"), 0n);
});

test("exact names and dotless suffixes from the configuration", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(
    pluginDir,
    '{"suffixes":["corp.internal"],"hosts":["Metadata.Google.Internal","[2001:db8::1]"],"status":403,"body":"no"}',
  );
  const blocked = ["corp.internal", "a.corp.internal:80", "metadata.google.internal", "[2001:db8::1]:443"];
  for (const authority of blocked) {
    const { http } = send(t, authority);
    assert.equal(http.localReply?.statusCode, 403, authority);
    assert.equal(http.localReplyBodyText, "no");
  }
  for (const authority of ["xcorp.internal", "api.example.com", "google.internal", "[2001:db8::2]"]) {
    assert.equal(send(t, authority).http.localReply, null, authority);
  }
});

test("malformed or missing authorities do not trap and are not blocked", { timeout: 60_000 }, async () => {
  const t = await startBuiltPlugin(pluginDir, "");
  for (const authority of ["", ":", "[", "[::1", "]]]", ".", "a..example.com:99999:1", "\u00ff\u00fe"]) {
    const { http, action } = send(t, authority);
    assert.equal(action, Action.Continue, JSON.stringify(authority));
    assert.equal(http.localReply, null);
  }
  const http = t.http();
  assert.equal(http.requestHeaders([[":path", "/"]], true), Action.Continue);
  // The VM is still healthy afterwards.
  assert.equal(send(t, "x.example.com").http.localReply?.statusCode, 451);
});

test("a bad configuration fails on_configure with a logged reason", { timeout: 60_000 }, async () => {
  const cases: Array<[string, RegExp]> = [
    ["{", /must be a JSON object/],
    ['{"suffix":[".a"]}', /unknown configuration key "suffix"/],
    ['{"suffixes":".example.com"}', /"suffixes" must be an array/],
    ['{"suffixes":[""]}', /"suffixes" must be an array of non-empty/],
    ['{"hosts":[1]}', /"hosts" must be an array/],
    ['{"status":99}', /"status" must be an HTTP status code/],
    ['{"status":451.5}', /"status" must be an HTTP status code/],
    ['{"body":null}', /"body" must be a string/],
  ];
  for (const [configuration, reason] of cases) {
    const logs = await rejectedConfigurationLogs(pluginDir, configuration);
    assert.ok(
      logs.some((line) => /bad configuration/.test(line) && reason.test(line)),
      `${configuration}: ${logs.join(" | ")}`,
    );
  }
});
