// A plugin that imports a pure-JS npm package (zod) builds, and the package works inside the plugin.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginStartError } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./build-fixture.ts";

test("zod validates the configuration inside the plugin", { timeout: 120_000 }, async () => {
  const wasm = await buildFixture("npm-dependency");
  const t = await startPlugin(wasm, {
    name: "zod",
    configuration: JSON.stringify({ header: "x-team", allowed: ["platform"] }),
  });
  const http = t.http();
  http.requestHeaders(
    [
      [":method", "GET"],
      [":path", "/"],
      ["x-team", "platform"],
    ],
    true,
  );
  assert.equal(http.requestHeader("x-verdict"), "allowed");
  const other = t.http();
  other.requestHeaders([[":path", "/"]], true);
  assert.equal(other.requestHeader("x-verdict"), "enforce:denied");

  await assert.rejects(
    startPlugin(wasm, { name: "zod", configuration: JSON.stringify({ header: "X Team", allowed: [] }) }),
    PluginStartError,
  );
});

test("zod's error messages reach the log when it rejects a configuration", { timeout: 120_000 }, async () => {
  const wasm = await buildFixture("npm-dependency");
  const { TestHost } = await import("@proxy-wasm-ts/host/testing");
  const testHost = new TestHost();
  const module = await testHost.host.loadModule(wasm);
  assert.throws(
    () =>
      testHost.host.startPlugin(module, {
        name: "zod",
        configuration: JSON.stringify({ header: "X Team", allowed: [], mode: "log" }),
      }),
    PluginStartError,
  );
  const logs = testHost.logEntries.map((entry) => entry.message).join("\n");
  assert.match(logs, /header: must be a lower-case header name/);
  assert.match(logs, /allowed: /);
  assert.match(logs, /mode: /);
});
