#!/usr/bin/env node
// The README's test command. Builds the packages (incremental `tsc -b`), brings the Debian packages the
// server-backed tests need (scripts/test-prerequisites.mjs), then runs every `*.test.ts` under packages/,
// services/, plugins/, scripts/ and demo/ with node's own test runner. Tests load the packages' TypeScript
// sources (tsx resolves `@proxy-wasm-ts/*` through tsconfig.base.json's `paths`); the `pwts` processes they
// start run the built JavaScript, as an installed package does. Node 20's `--test` takes no globs, so the file list is gathered
// here. Pass paths to narrow the run:
//   npm test -- packages/host
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ensureTestPrerequisites } from "./test-prerequisites.mjs";

const root = new URL("..", import.meta.url).pathname;
const roots = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ["packages", "services", "plugins", "scripts", "demo"];
const skip = new Set(["node_modules", ".git", "build", "dist", "fixtures", "assembly", "template"]);
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
if (!ensureTestPrerequisites()) process.exit(1);
const build = spawnSync(process.execPath, [join(root, "scripts/build-packages.mjs")], {
  cwd: root,
  stdio: "inherit",
});
if (build.status !== 0) process.exit(build.status ?? 1);
console.log(`node ${process.version}: ${files.length} test files`);
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
