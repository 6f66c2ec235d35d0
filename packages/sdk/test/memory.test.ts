import assert from "node:assert/strict";
import { before, test } from "node:test";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./support/fixture-build.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("http-headers");
});

const REQUEST: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/items"],
  [":authority", "example.com"],
  ["x-replace", "old"],
  ["x-remove", "gone"],
];
const RESPONSE: Array<[string, string]> = [
  [":status", "200"],
  ["x-internal", "secret"],
  ["content-type", "text/plain"],
];

test("memory stays flat: 100,000 HTTP streams use no more guest memory than the first 1,000", {
  timeout: 300_000,
}, async () => {
  const plugin = await startPlugin(wasm);
  const runStreams = (count: number) => {
    for (let i = 0; i < count; i++) {
      const http = plugin.http();
      http.requestHeaders(REQUEST, true);
      http.responseHeaders(RESPONSE, true);
      http.complete();
    }
  };
  runStreams(1_000);
  const afterFirstThousand = plugin.plugin.vm.memory.buffer.byteLength;
  runStreams(99_000);
  const afterAll = plugin.plugin.vm.memory.buffer.byteLength;
  assert.equal(plugin.plugin.failed, false);
  assert.ok(
    afterAll <= afterFirstThousand,
    `guest memory grew from ${afterFirstThousand} to ${afterAll} bytes over 99,000 more streams`,
  );
});
