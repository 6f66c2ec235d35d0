import assert from "node:assert/strict";
import { before, test } from "node:test";
import { findImport } from "@proxy-wasm-ts/host";
import { buildFixture } from "./support/fixture-build.ts";

const FIXTURES = ["http-headers", "http-bodies", "callouts", "root-services", "tcp", "misc"];
const modules = new Map<string, WebAssembly.Module>();

before(async () => {
  for (const name of FIXTURES) modules.set(name, new WebAssembly.Module(await buildFixture(name)));
});

test("every SDK-built module imports only ABI v0.2.1 host functions and WASI", { timeout: 300_000 }, () => {
  for (const [name, module] of modules) {
    for (const entry of WebAssembly.Module.imports(module)) {
      const spec = findImport(entry.module, entry.name);
      assert.ok(spec, `${name} imports ${entry.module}.${entry.name}, which no host provides`);
      assert.ok(
        spec.abi.includes("0.2.1"),
        `${name} imports ${entry.module}.${entry.name}, not in ABI v0.2.1`,
      );
      assert.notEqual(entry.module === "env" && ["abort", "trace", "seed"].includes(entry.name), true);
    }
  }
});

test("every SDK-built module exports the ABI marker, both allocators and the spec's callback names", () => {
  for (const [name, module] of modules) {
    const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    for (const required of [
      "memory",
      "proxy_abi_version_0_2_1",
      "malloc",
      "proxy_on_memory_allocate",
      "proxy_on_context_create",
      "proxy_on_request_headers",
      "proxy_on_new_connection",
      "proxy_on_http_call_response",
      "proxy_on_grpc_receive_trailing_metadata",
      "proxy_on_foreign_function",
    ]) {
      assert.ok(exports.has(required), `${name} lacks the export ${required}`);
    }
    assert.equal(
      exports.has("proxy_on_grpc_trailing_metadata"),
      false,
      "the misspelled name of other AS SDKs",
    );
    assert.equal(
      exports.has("_start"),
      false,
      "a reactor module: the host must not run a command entry point",
    );
  }
});
