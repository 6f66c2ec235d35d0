import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { tinyPluginWasm } from "@proxy-wasm-ts/test-support/wasm-fixture";
import { pack } from "tar-stream";
import { buildWasmImage, wasmFromLayer } from "../src/oci/wasm-image.ts";

async function tarGz(files: Record<string, Uint8Array>): Promise<Uint8Array> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (c) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => archive.on("end", () => resolve()));
  for (const [name, content] of Object.entries(files)) archive.entry({ name }, Buffer.from(content));
  archive.finalize();
  await ended;
  return new Uint8Array(gzipSync(Buffer.concat(chunks)));
}

test("a compat layer gives up plugin.wasm wherever it sits, next to other files", {
  timeout: 60_000,
}, async () => {
  const wasm = tinyPluginWasm("tar");
  const layer = await tarGz({
    "runtime-config.json": new TextEncoder().encode("{}"),
    "opt/plugin.wasm": wasm,
  });
  assert.deepEqual(await wasmFromLayer("compat", layer), wasm);
});

test("a compat layer without plugin.wasm, or not gzip, is refused with the reason", {
  timeout: 60_000,
}, async () => {
  await assert.rejects(
    wasmFromLayer("compat", await tarGz({ "other.wasm": tinyPluginWasm() })),
    /holds no plugin\.wasm/,
  );
  await assert.rejects(wasmFromLayer("compat", new Uint8Array([1, 2, 3])), /not gzip data/);
});

test("images are reproducible: the same module gives the same manifest digest in both layouts", {
  timeout: 60_000,
}, async () => {
  const wasm = tinyPluginWasm("same");
  for (const layout of ["compat", "wasm-layers"] as const) {
    const a = await buildWasmImage(wasm, layout, { rootIds: ["r"] });
    const b = await buildWasmImage(new Uint8Array(wasm), layout, { rootIds: ["r"] });
    assert.equal(a.digest, b.digest);
    assert.deepEqual(a.manifest, b.manifest);
  }
  const other = await buildWasmImage(tinyPluginWasm("different"), "compat");
  assert.notEqual(other.digest, (await buildWasmImage(wasm, "compat")).digest);
});
