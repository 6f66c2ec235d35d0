#!/usr/bin/env node
// Runs every `*.test.ts` under packages/, services/, plugins/ and scripts/ with node's own test runner.
// Node 20's `--test` takes no globs, so the file list is gathered here. Pass paths to narrow the run:
//   npm test -- packages/host
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const roots = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ["packages", "services", "plugins", "scripts", "demo"];
const skip = new Set(["node_modules", ".git", "build", "dist", "fixtures", "assembly"]);
const files = [];
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".test.ts")) files.push(relative(root, path));
  }
}
for (const r of roots) {
  const abs = join(root, r);
  if (statSync(abs, { throwIfNoEntry: false })?.isFile()) files.push(relative(root, abs));
  else walk(abs);
}
files.sort();
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(", ")}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
