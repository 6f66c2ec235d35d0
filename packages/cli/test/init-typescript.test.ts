// `pwts init NAME --lang ts`: the scaffolded TypeScript project builds with pwts build, passes its own
// harness tests and tsc --strict, and its manifest depends on @proxy-wasm-ts/js.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { scaffoldPlugin } from "../src/init/scaffold.ts";
import { buildPlugin } from "../src/plugin-build/build-plugin.ts";

// Inside the checkout, so the project resolves the workspace's packages like an installed one would.
const HERE = fileURLToPath(new URL(".", import.meta.url));
let parent: string;
let dir: string;
let files: string[];

before(async () => {
  parent = await mkdtemp(join(HERE, ".init-ts-"));
  dir = join(parent, "ts-demo");
  files = await scaffoldPlugin({
    name: "ts-demo",
    dir,
    sdkSpec: "^0.1.0",
    hostSpec: "^0.1.0",
    cliSpec: "^0.1.0",
    jsSpec: "^0.1.0",
    language: "typescript",
  });
});

after(async () => {
  if (parent) await rm(parent, { recursive: true, force: true });
});

test("pwts init --lang ts writes a TypeScript project", async () => {
  assert.deepEqual(files, [
    ".gitignore",
    "README.md",
    "envoy.yaml",
    "package.json",
    "src/index.ts",
    "test/plugin.test.ts",
    "tsconfig.json",
  ]);
  const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
  assert.equal(manifest.dependencies["@proxy-wasm-ts/js"], "^0.1.0");
  assert.equal(manifest.devDependencies["@proxy-wasm-ts/sdk"], undefined);
  // pwts build strips types without checking them: the project brings its own type check.
  assert.match(manifest.devDependencies.typescript, /^~5\./);
  assert.equal(manifest.scripts.typecheck, "tsc -p .");
  assert.match(await readFile(join(dir, "README.md"), "utf8"), /^# ts-demo\n[\s\S]*plain\nTypeScript/);
});

test("the scaffolded plugin builds, and passes its own tests and tsc --strict", {
  timeout: 300_000,
}, async () => {
  const built = await buildPlugin(dir);
  assert.equal(built.language, "typescript");
  assert.deepEqual(built.unsupported, []);
  // Without NODE_TEST_CONTEXT the child reports as a test run of its own (not to this runner).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const tests = spawnSync(process.execPath, ["--import", "tsx", "--test", "test/plugin.test.ts"], {
    cwd: dir,
    encoding: "utf8",
    env,
  });
  assert.equal(tests.status, 0, tests.stdout + tests.stderr);
  assert.match(tests.stdout, /^(#|ℹ) pass 3$/m); // TAP (Node 20/22 off a TTY) or spec (Node 24)
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const typecheck = spawnSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });
  assert.equal(typecheck.status, 0, typecheck.stdout + typecheck.stderr);
});
