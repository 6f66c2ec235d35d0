/** A tiny but valid Proxy-Wasm-shaped module for shipping tests (compiled from .wat with wabt). */
import { compileWat } from "./wat.ts";

export function tinyPluginWasm(marker = "pwts"): Uint8Array {
  return compileWat(`(module
    (memory (export "memory") 1)
    (data (i32.const 8) "${marker}")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024)))`);
}
