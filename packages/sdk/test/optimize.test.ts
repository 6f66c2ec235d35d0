/**
 * compilePlugin's two goals: `size` makes a smaller module than `speed` (the default) from the same
 * plugin, and both modules behave the same in the harness. Which one is faster is measured by
 * `npm run bench -- plugins`, not asserted here (no timed assertions in tests).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { compilePlugin, type OptimizeGoal } from "../src/index.ts";
import { buildFixture, FIXTURES_DIR } from "./support/fixture-build.ts";

const modules = new Map<OptimizeGoal | "default", Uint8Array>();
before(async () => {
  for (const goal of ["speed", "size"] as const)
    modules.set(goal, await buildFixture("http-headers", { optimize: goal }));
  modules.set("default", await buildFixture("http-headers"));
});

/** What the http-headers fixture does to a request it passes, a response, trailers and one it denies. */
async function observe(wasm: Uint8Array) {
  const plugin = await startPlugin(wasm);
  const passed = plugin.http();
  passed.requestHeaders(
    [
      [":method", "GET"],
      [":path", "/items"],
      [":authority", "example.com"],
      ["x-empty", ""],
      ["x-replace", "old"],
      ["x-remove", "gone"],
    ],
    false,
  );
  passed.requestTrailers([["x-checksum", "abc"]]);
  passed.responseHeaders(
    [
      [":status", "200"],
      ["x-internal", "secret"],
    ],
    true,
  );
  passed.complete();
  const denied = plugin.http();
  denied.requestHeaders([[":path", "/deny"]], true);
  const reply = denied.localReply;
  denied.complete();
  return {
    request: passed.requestHeadersList,
    trailers: passed.requestTrailersList,
    response: passed.responseHeadersList,
    denied: reply && { status: reply.statusCode, body: denied.localReplyBodyText, details: reply.details },
    failed: plugin.plugin.failed,
  };
}

test("a size build is smaller than a speed build of the same plugin; speed is the default", () => {
  const speed = modules.get("speed")!;
  const size = modules.get("size")!;
  assert.ok(
    size.byteLength < speed.byteLength,
    `size ${size.byteLength} bytes, speed ${speed.byteLength} bytes`,
  );
  assert.deepEqual(modules.get("default"), speed, "no optimize option builds for speed");
});

test("speed and size builds behave the same in the harness", { timeout: 120_000 }, async () => {
  const speed = await observe(modules.get("speed")!);
  const size = await observe(modules.get("size")!);
  // The fixture's work is visible, so equal results cannot come from two modules that both did nothing.
  assert.equal(new Map(speed.request).get("x-replace"), "new");
  assert.equal(new Map(speed.request).get("x-all-text-matches"), "yes");
  assert.deepEqual(speed.trailers, [
    ["x-checksum", "abc"],
    ["x-checksum-seen", "abc"],
  ]);
  assert.equal(speed.denied?.status, 403);
  assert.equal(speed.failed, false);
  assert.deepEqual(size, speed);
});

test("compilePlugin names the goals when given another", async () => {
  await assert.rejects(
    compilePlugin({ baseDir: FIXTURES_DIR, entry: "http-headers.ts", optimize: "fast" as OptimizeGoal }),
    /optimize must be "speed" or "size", not "fast"/,
  );
});

test("pwts-build --optimize with another value exits 2, naming the flag and the goals", () => {
  const command = fileURLToPath(new URL("../src/build-command.ts", import.meta.url));
  const run = spawnSync(process.execPath, ["--import", "tsx", command, FIXTURES_DIR, "--optimize", "fast"], {
    encoding: "utf8",
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /^pwts-build: --optimize must be one of speed, size, not "fast"$/m);
  assert.match(run.stderr, /usage: pwts-build \[DIR\] \[--debug\] \[--optimize speed\|size\]/);
});
