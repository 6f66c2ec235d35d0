/**
 * Walks the Proxy-Wasm ABI v0.2.1 host-function table (copied here from the spec, so the test fails if the
 * host's table loses or changes any entry) and checks the host provides each one with that signature.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";
import { findImport, IMPORT_TABLE } from "../src/abi/table.ts";
import { ProxyWasmModule } from "../src/module.ts";
import { abiModuleWat, startAbiHarness } from "./support/abi-module.ts";

/** The spec's 47 host functions: name and Wasm parameter types (every one returns i32 except proc_exit). */
const SPEC_V021: Array<[string, string]> = [
  ["env.proxy_done", ""],
  ["env.proxy_set_effective_context", "i32"],
  ["env.proxy_log", "i32 i32 i32"],
  ["wasi_snapshot_preview1.fd_write", "i32 i32 i32 i32"],
  ["env.proxy_get_log_level", "i32"],
  ["env.proxy_get_current_time_nanoseconds", "i32"],
  ["wasi_snapshot_preview1.clock_time_get", "i32 i64 i32"],
  ["env.proxy_set_tick_period_milliseconds", "i32"],
  ["wasi_snapshot_preview1.random_get", "i32 i32"],
  ["wasi_snapshot_preview1.environ_sizes_get", "i32 i32"],
  ["wasi_snapshot_preview1.environ_get", "i32 i32"],
  ["env.proxy_set_buffer_bytes", "i32 i32 i32 i32 i32"],
  ["env.proxy_get_buffer_bytes", "i32 i32 i32 i32 i32"],
  ["env.proxy_get_buffer_status", "i32 i32 i32"],
  ["env.proxy_get_header_map_size", "i32 i32"],
  ["env.proxy_get_header_map_pairs", "i32 i32 i32"],
  ["env.proxy_set_header_map_pairs", "i32 i32 i32"],
  ["env.proxy_get_header_map_value", "i32 i32 i32 i32 i32"],
  ["env.proxy_add_header_map_value", "i32 i32 i32 i32 i32"],
  ["env.proxy_replace_header_map_value", "i32 i32 i32 i32 i32"],
  ["env.proxy_remove_header_map_value", "i32 i32 i32"],
  ["env.proxy_continue_stream", "i32"],
  ["env.proxy_close_stream", "i32"],
  ["env.proxy_get_status", "i32 i32 i32"],
  ["env.proxy_send_local_response", "i32 i32 i32 i32 i32 i32 i32 i32"],
  ["env.proxy_http_call", "i32 i32 i32 i32 i32 i32 i32 i32 i32 i32"],
  ["env.proxy_grpc_call", "i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32"],
  ["env.proxy_grpc_stream", "i32 i32 i32 i32 i32 i32 i32 i32 i32"],
  ["env.proxy_grpc_send", "i32 i32 i32 i32"],
  ["env.proxy_grpc_cancel", "i32"],
  ["env.proxy_grpc_close", "i32"],
  ["env.proxy_set_shared_data", "i32 i32 i32 i32 i32"],
  ["env.proxy_get_shared_data", "i32 i32 i32 i32 i32"],
  ["env.proxy_register_shared_queue", "i32 i32 i32"],
  ["env.proxy_resolve_shared_queue", "i32 i32 i32 i32 i32"],
  ["env.proxy_enqueue_shared_queue", "i32 i32 i32"],
  ["env.proxy_dequeue_shared_queue", "i32 i32 i32"],
  ["env.proxy_define_metric", "i32 i32 i32 i32"],
  ["env.proxy_record_metric", "i32 i64"],
  ["env.proxy_increment_metric", "i32 i64"],
  ["env.proxy_get_metric", "i32 i32"],
  ["env.proxy_get_property", "i32 i32 i32 i32"],
  ["env.proxy_set_property", "i32 i32 i32 i32"],
  ["env.proxy_call_foreign_function", "i32 i32 i32 i32 i32 i32"],
  ["wasi_snapshot_preview1.args_sizes_get", "i32 i32"],
  ["wasi_snapshot_preview1.args_get", "i32 i32"],
  ["wasi_snapshot_preview1.proc_exit", "i32"],
];

test("the import table has every v0.2.1 host function with the spec's signature", () => {
  assert.equal(SPEC_V021.length, 47);
  assert.equal(SPEC_V021.filter(([n]) => n.startsWith("env.proxy_")).length, 39);
  for (const [full, params] of SPEC_V021) {
    const [module, name] = full.split(".") as [string, string];
    const spec = findImport(module, name);
    assert.ok(spec, `${full} is missing from the import table`);
    assert.equal(spec.params.join(" "), params, `${full} parameters`);
    assert.deepEqual(spec.results, name === "proc_exit" ? [] : ["i32"], `${full} results`);
    assert.ok(spec.abi.includes("0.2.1"), `${full} is provided to v0.2.1 modules`);
    assert.equal(spec.inSpec, true, `${full} is marked as a spec function`);
  }
  assert.equal(IMPORT_TABLE.filter((s) => s.inSpec).length, 47, "no extra function claims to be in the spec");
});

test("a module importing every table function for each ABI version loads, links and starts", {
  timeout: 30_000,
}, async () => {
  for (const abi of ["0.2.1", "0.2.0", "0.1.0"] as const) {
    const t = await startAbiHarness({ abi });
    assert.equal(t.vm.module.abiVersion, abi);
    const imported = new Set(t.vm.module.imports.map((i) => `${i.module}.${i.name}`));
    for (const spec of IMPORT_TABLE) {
      if (spec.module === "wasi_unstable" || !spec.abi.includes(abi)) continue;
      assert.ok(
        imported.has(`${spec.module}.${spec.name}`),
        `${spec.module}.${spec.name} imported for ${abi}`,
      );
      const exported = t.vm.instance.exports[`call:${spec.module}.${spec.name}`];
      assert.equal(typeof exported, "function");
    }
  }
});

test("every host function is reachable and answers without throwing, even with hostile arguments", {
  timeout: 30_000,
}, async () => {
  const t = await startAbiHarness();
  for (const spec of IMPORT_TABLE) {
    if (spec.module === "wasi_unstable" || spec.name === "proc_exit" || !spec.abi.includes("0.2.1")) continue;
    const args = spec.params.map((p) => (p === "i64" ? -1n : -1));
    const result = t.inContext(t.harness.plugin.root, () => t.call(`${spec.module}.${spec.name}`, ...args));
    assert.equal(typeof result, "number", `${spec.module}.${spec.name}`);
  }
  assert.equal(t.vm.failed, false);
});

test("wasi_unstable is provided with the same functions", { timeout: 30_000 }, async () => {
  const wat = abiModuleWat("0.2.1").replace(/"wasi_snapshot_preview1"/g, '"wasi_unstable"');
  const module = await ProxyWasmModule.load(compileWat(wat));
  assert.ok(module.imports.some((i) => i.module === "wasi_unstable" && i.name === "fd_write"));
});
