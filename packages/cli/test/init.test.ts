import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { scaffoldPlugin } from "../src/init/scaffold.ts";
import { UserError } from "../src/user-error.ts";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const temps: string[] = [];

after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pwts-init-"));
  temps.push(dir);
  return dir;
}

test("pwts init writes the project files with the name filled in", { timeout: 30_000 }, async () => {
  const dir = join(await tempDir(), "demo");
  const files = await scaffoldPlugin({ name: "demo", dir, sdkSpec: "^0.1.0", hostSpec: "^0.1.0" });
  assert.deepEqual(files, [
    ".gitignore",
    "README.md",
    "assembly/index.ts",
    "assembly/tsconfig.json",
    "envoy.yaml",
    "package.json",
    "test/plugin.test.ts",
  ]);
  const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
  assert.equal(manifest.name, "demo");
  assert.equal(manifest.devDependencies["@proxy-wasm-ts/sdk"], "^0.1.0");
  assert.match(await readFile(join(dir, "envoy.yaml"), "utf8"), /name: demo\n/);
  assert.match(await readFile(join(dir, "README.md"), "utf8"), /^# demo\n/);
  assert.doesNotMatch(await readFile(join(dir, "assembly", "index.ts"), "utf8"), /\{\{/);
});

test("pwts init refuses bad names and non-empty directories", { timeout: 30_000 }, async () => {
  const parent = await tempDir();
  await assert.rejects(
    scaffoldPlugin({ name: "Bad Name", dir: join(parent, "x"), sdkSpec: "*", hostSpec: "*" }),
    (err: unknown) => err instanceof UserError && /invalid project name "Bad Name"/.test(err.message),
  );
  await mkdir(join(parent, "taken"));
  await writeFile(join(parent, "taken", "file"), "x");
  await assert.rejects(
    scaffoldPlugin({ name: "taken", dir: join(parent, "taken"), sdkSpec: "*", hostSpec: "*" }),
    /already exists and is not an empty directory/,
  );
});

// The clean-machine check: the workspace packages are packed as npm would publish them, the project
// is created outside the repository, and its own `npm install && npm test` must pass.
test("pwts init demo && npm install && npm test passes against the workspace packages", {
  timeout: 900_000,
}, async () => {
  const parent = await tempDir();
  const packs = join(parent, "packs");
  await mkdir(packs);
  const tarballs: Record<string, string> = {};
  for (const name of ["sdk", "host"]) {
    const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", packs], {
      cwd: join(REPO, "packages", name),
    });
    tarballs[name] = join(packs, stdout.trim().split("\n").pop()!);
    assert.ok(existsSync(tarballs[name]), `packed ${name}`);
  }
  const pwts = join(REPO, "packages", "cli", "bin", "pwts.js");
  await run(
    process.execPath,
    [pwts, "init", "demo", "--sdk", `file:${tarballs.sdk}`, "--host", `file:${tarballs.host}`],
    {
      cwd: parent,
    },
  );
  const demo = join(parent, "demo");
  await run("npm", ["install", "--no-audit", "--no-fund"], { cwd: demo, maxBuffer: 16 << 20 });
  // Without NODE_TEST_CONTEXT the project's own test run reports as a top-level run would.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const { stdout } = await run("npm", ["test"], { cwd: demo, env, maxBuffer: 16 << 20 });
  assert.match(stdout, /^(#|ℹ) pass 3$/m);
  assert.match(stdout, /^(#|ℹ) fail 0$/m);
  assert.ok(existsSync(join(demo, "build", "plugin.wasm")));
});
