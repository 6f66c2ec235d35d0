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
