/** Runs the README's library example against a registry on loopback, exactly as written there. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startRegistry, type TestRegistry } from "@proxy-wasm-ts/test-support/docker-registry";
import { tinyPluginWasm } from "@proxy-wasm-ts/test-support/wasm-fixture";

let registry: TestRegistry;
let dir: string;
before(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), "pwts-readme-"));
});
after(async () => {
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("the README example pushes and pulls", { timeout: 300_000 }, async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, "README has a ts example");
  const index = new URL("../src/index.ts", import.meta.url).pathname;
  const script = join(dir, "example.mts");
  await writeFile(script, example.replace('"@proxy-wasm-ts/ship"', JSON.stringify(index)));
  await writeFile(join(dir, "plugin.wasm"), tinyPluginWasm("readme"));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", script],
      {
        env: { ...process.env, REGISTRY: registry.host, PLUGIN_WASM: join(dir, "plugin.wasm") },
        timeout: 60_000,
      },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
    );
  });
  const digest = /^digest (sha256:[a-f0-9]{64})$/m.exec(stdout)?.[1];
  assert.ok(digest, stdout);
  assert.match(stdout, new RegExp(`^url oci://${registry.host}/plugins/demo@${digest}$`, "m"));
  assert.match(stdout, /^pulled compat \d+ bytes$/m);
});
