// Every ```ts block of the README is a complete plugin: it must compile with the SDK and import only
// ABI v0.2.1 host functions.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { findImport } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./support/fixture-build.ts";

const SDK_DIR = fileURLToPath(new URL("../", import.meta.url));
// Inside the package so `@proxy-wasm-ts/sdk/assembly` resolves through the workspace; gitignored.
const EXAMPLES_DIR = join(SDK_DIR, "build", "readme-examples");

async function readmeExamples(): Promise<string[]> {
  const readme = await readFile(join(SDK_DIR, "README.md"), "utf8");
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test("README examples compile and import only what Envoy provides", { timeout: 900_000 }, async () => {
  const examples = await readmeExamples();
  assert.ok(examples.length >= 12, `found ${examples.length} examples`);
  await mkdir(EXAMPLES_DIR, { recursive: true });
  for (const [i, source] of examples.entries()) {
    const path = join(EXAMPLES_DIR, `example-${i + 1}.ts`);
    await writeFile(path, source);
    const wasm = await buildFixture(path).catch((err: Error) => {
      throw new Error(`README example ${i + 1} does not compile:\n${err.message}`);
    });
    for (const entry of WebAssembly.Module.imports(new WebAssembly.Module(wasm))) {
      assert.ok(
        findImport(entry.module, entry.name)?.abi.includes("0.2.1"),
        `README example ${i + 1} imports ${entry.module}.${entry.name}`,
      );
    }
  }
});

test("the README's first example adds its header in the harness", { timeout: 300_000 }, async () => {
  const [first] = await readmeExamples();
  await mkdir(EXAMPLES_DIR, { recursive: true });
  const path = join(EXAMPLES_DIR, "example-1.ts");
  await writeFile(path, first!);
  const plugin = await startPlugin(await buildFixture(path));
  const http = plugin.http();
  http.requestHeaders(
    [
      [":method", "GET"],
      [":path", "/"],
      [":authority", "example.com"],
    ],
    true,
  );
  http.responseHeaders([[":status", "200"]], true);
  assert.equal(http.responseHeader("x-powered-by"), "proxy-wasm-ts");
  http.complete();
});
