#!/usr/bin/env node
// Builds every library under packages/ to JavaScript plus `.d.ts` in its dist/ (`tsc -b`, incremental: a
// second run with nothing changed takes about a second). npm runs it as the root `prepare` script after
// `npm install` / `npm ci`, and `npm test` runs it first, so `pwts` and the packages' exports never point
// at stale or missing output.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
const result = spawnSync(process.execPath, [tsc, "-b", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error("build-packages: tsc -b tsconfig.build.json failed (errors above)");
  process.exit(result.status ?? 1);
}
