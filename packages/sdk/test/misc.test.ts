import assert from "node:assert/strict";
import { before, test } from "node:test";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./support/fixture-build.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("misc");
});

const POST: Array<[string, string]> = [
  [":method", "POST"],
  [":path", "/events"],
  [":authority", "api.local"],
];

test("root ids pick the registered factory; an unknown root id rejects the configuration", {
  timeout: 60_000,
}, async () => {
  const second = await startPlugin(wasm, { rootId: "second" });
  const http = second.http();
  http.requestHeaders(POST, true);
  assert.equal(http.requestHeader("x-root"), "second");
  http.complete();
  await assert.rejects(startPlugin(wasm, { rootId: "third" }));
});

test("JSON: configuration and request body parsed, response written with JsonWriter", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json", configuration: '{"greeting": "hi \\"there\\""}' });
  const http = plugin.http();
  http.requestHeaders(POST, false);
  http.requestBody('{"name": "caf\\u00e9\\n", "count": 21, "tags": ["a", "b"], "flag": true', false);
  http.requestBody("}", true);
  assert.equal(http.localReply?.statusCode, 200);
  const body = JSON.parse(http.localReplyBodyText ?? "");
  assert.deepEqual(body, {
    greeting: 'hi "there"',
    name: "café\n",
    count: 42,
    tagCount: 2,
    nested: [true, null, {}],
  });
  http.complete();
});

test("JSON: a 64 Ki-character string full of escapes and an 8,000-member object build in bounded memory", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json" });
  const pagesBefore = plugin.plugin.vm.memory.buffer.byteLength / 65536;
  const http = plugin.http();
  http.requestHeaders([...POST, ["x-json-large", "1"]], true);
  const pages = plugin.plugin.vm.memory.buffer.byteLength / 65536;
  assert.equal(plugin.plugin.failed, false);
  // 32 pages here; building by string joins (quadratic at shrinkLevel 2) reached 16,384 and trapped.
  assert.ok(pages < 64, `guest memory grew from ${pagesBefore} to ${pages} pages`);
  assert.equal(http.localReply?.statusCode, 200);
  const text = '"\\\n\x01é\u{1F600}/'.repeat(8192);
  const members: Record<string, number> = {};
  for (let i = 0; i < 8000; i++) members[`${i}`] = i;
  assert.deepEqual(JSON.parse(http.localReplyBodyText ?? ""), {
    text,
    quoted: text,
    lone: "\uD800x",
    members,
  });
  http.complete();
});

test("JSON: a body with a 64 Ki-character string full of escapes and 8,000 items parses in bounded memory", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json" });
  const name = '"\\\n\x01é\u{1F600}/'.repeat(8192);
  const tags = Array.from({ length: 8000 }, (_, i) => `t${i}`);
  const http = plugin.http();
  http.requestHeaders(POST, false);
  http.requestBody(JSON.stringify({ name, count: 1, tags }), true);
  const pages = plugin.plugin.vm.memory.buffer.byteLength / 65536;
  assert.equal(plugin.plugin.failed, false);
  assert.ok(pages < 64, `guest memory grew to ${pages} pages`);
  const body = JSON.parse(http.localReplyBodyText ?? "");
  assert.equal(body.name, name);
  assert.equal(body.tagCount, 8000);
  http.complete();
});

test("JSON: malformed input is rejected with null, never a trap", { timeout: 60_000 }, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json" });
  for (const bad of ['{"a": }', "[1, 2", '{"a": "unterminated', "1 2", "[".repeat(500), '{"a": 01}', "nul"]) {
    const http = plugin.http();
    http.requestHeaders(POST, false);
    http.requestBody(bad, true);
    assert.equal(http.localReply?.statusCode, 400, `input ${JSON.stringify(bad.slice(0, 20))}`);
    http.complete();
  }
  assert.equal(plugin.plugin.failed, false);
  await assert.rejects(startPlugin(wasm, { rootId: "json", configuration: "not json" }));
});

test("abort: the message and source location are logged at critical level, then the VM traps", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json" });
  const http = plugin.http();
  http.requestHeaders([...POST, ["x-crash", "1"]], true);
  const critical = plugin.logs("critical");
  assert.ok(
    critical.some((m) => /^abort: crash requested at .*misc\.ts:\d+:\d+$/.test(m)),
    `critical logs: ${JSON.stringify(critical)}`,
  );
  assert.equal(plugin.plugin.failed, true);
  assert.equal(http.localReply?.statusCode, 503, "FAIL_CLOSED answers 503");
});
