/** Runs the README's harness example, as written, against a plugin that behaves as the README says. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { behaviourModule } from "./support/behaviour-module.ts";

test("the README harness example runs and its assertions hold", { timeout: 30_000 }, async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Testing a plugin"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error("README has no ts example under 'Testing a plugin'");
  const dir = mkdtempSync(join(tmpdir(), "pwts-readme-"));
  try {
    const wasm = join(dir, "plugin.wasm");
    writeFileSync(wasm, behaviourModule({ callout: 1, request_headers_result: 1 }));
    const src = new URL("../src/", import.meta.url);
    const runnable = code
      .replace('"@proxy-wasm-ts/host/testing"', JSON.stringify(new URL("testing/index.ts", src).href))
      .replace('"@proxy-wasm-ts/host"', JSON.stringify(new URL("index.ts", src).href))
      .replace('"plugin.wasm"', JSON.stringify(wasm));
    const file = join(dir, "example.mts");
    writeFileSync(file, runnable);
    await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
