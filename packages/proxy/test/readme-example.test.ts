import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

test("the README's API example runs and prints what it says", { timeout: 30_000 }, async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, "README has a ts example");
  const file = join(new URL(".", import.meta.url).pathname, `readme-example-${process.pid}.tmp.ts`);
  writeFileSync(file, code);
  const logged: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  try {
    await import(file);
  } finally {
    console.log = log;
    rmSync(file, { force: true });
  }
  assert.deepEqual(logged, [[200, "envoy", "hello from /greeting"]]);
});
