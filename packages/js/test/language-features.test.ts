// Each TypeScript language feature is checked inside a plugin running in the host (the fixture answers
// /features with a JSON verdict per feature); the fixtures also pass tsc --strict.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./build-fixture.ts";

const FEATURES = [
  "class with inferred fields, private field, getter",
  "arrow function using this",
  "closures",
  "union types and narrowing",
  "optional chaining and ??",
  "object literal for an interface",
  "destructuring and spread",
  "template literals and tagged templates",
  "Map and Set",
  "JSON",
  "RegExp",
  "BigInt",
  "generators",
  "async/await and Promise",
  "TextEncoder and TextDecoder",
  "Array and Object helpers",
  "Symbol.iterator on a class",
  "errors and instanceof",
  "URL and URLSearchParams",
  "Math.random and crypto.getRandomValues",
  "Date and Math",
];

describe("TypeScript language features inside a plugin", { timeout: 120_000 }, () => {
  let verdicts: Record<string, string>;
  before(async () => {
    const t = await startPlugin(await buildFixture("language-features"), { name: "features" });
    const http = t.http();
    http.requestHeaders(
      [
        [":method", "GET"],
        [":path", "/features"],
        [":authority", "test"],
      ],
      true,
    );
    const reply = http.events.localReplies[0];
    assert.ok(reply, `no answer; logs: ${t.logs().join(" | ")}`);
    assert.equal(reply.statusCode, 200);
    verdicts = JSON.parse(new TextDecoder().decode(reply.body));
  });

  for (const feature of FEATURES) {
    test(feature, () => assert.equal(verdicts[feature], "ok"));
  }

  test("the plugin checks no feature this list misses", () => {
    assert.deepEqual(Object.keys(verdicts).sort(), [...FEATURES].sort());
  });
});

test("every VM started from the snapshot draws its own random numbers", { timeout: 120_000 }, async () => {
  const wasm = await buildFixture("language-features");
  const draws: string[] = [];
  for (let i = 0; i < 2; i++) {
    const t = await startPlugin(wasm, { name: `random-${i}` });
    const http = t.http();
    http.requestHeaders([[":path", "/random"]], true);
    draws.push(new TextDecoder().decode(http.events.localReplies[0]!.body));
  }
  const [first, second] = draws.map((text) => JSON.parse(text) as { random: number[]; bytes: number[] });
  assert.notDeepEqual(first!.random, second!.random);
  assert.notDeepEqual(first!.bytes, second!.bytes);
});

test("the fixture plugins pass tsc --strict with the guest globals only (no dom, no node)", {
  timeout: 120_000,
}, () => {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const project = fileURLToPath(new URL("./fixtures/tsconfig.json", import.meta.url));
  const result = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
