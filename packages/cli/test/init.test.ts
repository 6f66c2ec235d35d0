import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { defaultPackageSpecs, scaffoldPlugin } from "../src/init/scaffold.ts";
import { UserError } from "../src/user-error.ts";

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
  const files = await scaffoldPlugin({
    name: "demo",
    dir,
    sdkSpec: "^0.1.0",
    hostSpec: "^0.1.0",
    cliSpec: "^0.1.0",
  });
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
  assert.equal(manifest.devDependencies["@proxy-wasm-ts/cli"], "^0.1.0");
  assert.equal(manifest.scripts.build, "pwts build");
  assert.match(await readFile(join(dir, "envoy.yaml"), "utf8"), /name: demo\n/);
  assert.match(await readFile(join(dir, "README.md"), "utf8"), /^# demo\n/);
  assert.doesNotMatch(await readFile(join(dir, "assembly", "index.ts"), "utf8"), /\{\{/);
});

test("pwts init refuses bad names and non-empty directories", { timeout: 30_000 }, async () => {
  const parent = await tempDir();
  await assert.rejects(
    scaffoldPlugin({ name: "Bad Name", dir: join(parent, "x"), sdkSpec: "*", hostSpec: "*", cliSpec: "*" }),
    (err: unknown) => err instanceof UserError && /invalid project name "Bad Name"/.test(err.message),
  );
  await mkdir(join(parent, "taken"));
  await writeFile(join(parent, "taken", "file"), "x");
  await assert.rejects(
    scaffoldPlugin({ name: "taken", dir: join(parent, "taken"), sdkSpec: "*", hostSpec: "*", cliSpec: "*" }),
    /already exists and is not an empty directory/,
  );
});

test("run from a checkout, pwts init links the checkout's own packages by relative file: paths", () => {
  const project = join(REPO, "..", "elsewhere", "my-plugin");
  assert.deepEqual(defaultPackageSpecs(project), {
    sdkSpec: `file:${join("..", "..", relative(join(REPO, ".."), REPO), "packages", "sdk")}`,
    hostSpec: `file:${join("..", "..", relative(join(REPO, ".."), REPO), "packages", "host")}`,
    cliSpec: `file:${join("..", "..", relative(join(REPO, ".."), REPO), "packages", "cli")}`,
  });
  assert.deepEqual(defaultPackageSpecs(join(REPO, "my-plugin")).sdkSpec, "file:../packages/sdk");
});

test("the scaffolded envoy.yaml listens on loopback only and says how to open it up", async () => {
  const dir = join(await tempDir(), "loopback");
  await scaffoldPlugin({ name: "loopback", dir, sdkSpec: "*", hostSpec: "*", cliSpec: "*" });
  const config = await readFile(join(dir, "envoy.yaml"), "utf8");
  assert.match(config, /socket_address: \{ address: 127\.0\.0\.1, port_value: 10000 \}/);
  assert.doesNotMatch(config, /address: 0\.0\.0\.0/);
  assert.match(config, /use 0\.0\.0\.0/);
});
