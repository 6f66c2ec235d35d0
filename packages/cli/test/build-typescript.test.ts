// pwts build on TypeScript plugins: bad plugins get a clear error naming the .ts file, line and column,
// and `pwts inspect` (the shared analysis) finds only Envoy-provided imports in every TypeScript plugin.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { inspectModule } from "../src/commands/inspect.ts";
import { buildPlugin } from "../src/plugin-build/build-plugin.ts";
import { UserError } from "../src/user-error.ts";
import { runPwts } from "./support/run-pwts.ts";

// Inside the checkout, so `@proxy-wasm-ts/js` resolves to the workspace package.
const HERE = fileURLToPath(new URL(".", import.meta.url));
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const made: string[] = [];

after(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

async function plugin(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(HERE, ".build-ts-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const DEFINE = 'import { definePlugin } from "@proxy-wasm-ts/js";\ndefinePlugin({});\n';

test("a syntax error names the .ts file, line and column", { timeout: 120_000 }, async () => {
  const dir = await plugin({
    "src/index.ts": DEFINE,
    "src/config.ts": "export const limit = 10;\nexport const x = ;\n",
  });
  await writeFile(
    join(dir, "src/index.ts"),
    `import { limit } from "./config.ts";\n${DEFINE}console.log(limit);\n`,
  );
  await assert.rejects(buildPlugin(dir), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /^src\/config\.ts:2:18: error: Unexpected ";"/m);
    return true;
  });
});

test("--optimize is refused for a TypeScript plugin, saying why, rather than ignored", async () => {
  const dir = await plugin({ "src/index.ts": DEFINE });
  await assert.rejects(buildPlugin(dir, { optimize: "size" }), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /--optimize applies to AssemblyScript plugins; .* is a TypeScript plugin/);
    return true;
  });
});

test("an import that does not resolve names where it is", { timeout: 120_000 }, async () => {
  const dir = await plugin({ "src/index.ts": `${DEFINE}import "left-pad-that-is-not-installed";\n` });
  await assert.rejects(
    buildPlugin(dir),
    /src\/index\.ts:3:8: error: Could not resolve "left-pad-that-is-not-installed"/,
  );
});

test("an exception while the bundle is evaluated fails the build with the .ts stack", {
  timeout: 120_000,
}, async () => {
  const dir = await plugin({
    "src/index.ts": `${DEFINE}function load(): never {\n  throw new Error("no configuration file in a Wasm VM");\n}\nload();\n`,
  });
  await assert.rejects(buildPlugin(dir), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /failed while it was evaluated at build time/);
    assert.match(err.message, /no configuration file in a Wasm VM/);
    assert.match(err.message, /at load \(src\/index\.ts:4:\d+\)/);
    return true;
  });
});

test("a plugin that never calls definePlugin is told to", { timeout: 120_000 }, async () => {
  const dir = await plugin({ "src/index.ts": "export const nothing = 1;\n" });
  await assert.rejects(buildPlugin(dir), /must call definePlugin\(\) from @proxy-wasm-ts\/js/);
});

test("pwts build prints the module, its imports and what the plugin logged at build time", {
  timeout: 120_000,
}, async () => {
  const dir = await plugin({ "src/index.ts": `${DEFINE}console.log("routes loaded: 3");\n` });
  const { code, stdout: output } = await runPwts(["build", dir]);
  assert.equal(code, 0);
  assert.match(output, /build\/plugin\.wasm: \d+ bytes \(\d+\.\d KiB\), ABI 0\.2\.1, typescript/);
  assert.match(output, /wasi_snapshot_preview1\.random_get/);
  assert.match(output, /logged while evaluated at build time:\n {2}routes loaded: 3/);
});

test("pwts inspect finds only Envoy-provided imports in every TypeScript plugin", {
  timeout: 600_000,
}, async () => {
  const out = await mkdtemp(join(HERE, ".build-ts-out-"));
  made.push(out);
  for (const name of ["header-mutation-ts", "regional-routing-ts", "tcp-routing-ts"]) {
    // Written aside: the plugins' own tests may be reading their build/plugin.wasm meanwhile.
    const built = await buildPlugin(join(REPO, "plugins", name), { outFile: join(out, `${name}.wasm`) });
    const report = await inspectModule(built.outFile, new Uint8Array(await readFile(built.outFile)));
    assert.deepEqual(report.problems, [], name);
    assert.equal(report.hostLoadError, null, name);
    assert.equal(report.abiVersion, "0.2.1", name);
    for (const entry of report.imports) {
      assert.equal(entry.verdict.kind, "ok", `${name}: ${entry.module}.${entry.name}`);
      assert.match(entry.module, /^(env|wasi_snapshot_preview1)$/, name);
    }
  }
});
