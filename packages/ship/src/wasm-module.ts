/**
 * The few WebAssembly engine calls shipping needs. The project compiles against lib ES2023 without DOM
 * typings, where the `WebAssembly` global has no types; this file types the part we use, once.
 */
import { PwtsError } from "@proxy-wasm-ts/errors";

interface WasmEngine {
  validate(bytes: Uint8Array): boolean;
  Module: { new (bytes: Uint8Array): object; exports(module: object): Array<{ name: string; kind: string }> };
}

const engine = (globalThis as unknown as { WebAssembly: WasmEngine }).WebAssembly;

/** Throws unless the bytes are a valid WebAssembly module; `what` names them in the message. */
export function assertWasmModule(bytes: Uint8Array, what: string): void {
  const magic = bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic) throw new PwtsError("PWTS_ERR_INVALID_WASM", `${what} is not WebAssembly (no \\0asm magic)`);
  if (!engine.validate(bytes))
    throw new PwtsError("PWTS_ERR_INVALID_WASM", `${what} is not a valid WebAssembly module`);
}

/** Names the module exports (compiles it; throws on invalid bytes). */
export function wasmExportNames(bytes: Uint8Array): string[] {
  return engine.Module.exports(new engine.Module(bytes)).map((e) => e.name);
}

/** Throws unless the module exports a `proxy_abi_version_*` marker, without which Envoy refuses it. */
export function assertProxyWasmModule(bytes: Uint8Array, what: string): void {
  assertWasmModule(bytes, what);
  if (!wasmExportNames(bytes).some((name) => name.startsWith("proxy_abi_version_"))) {
    throw new PwtsError(
      "PWTS_ERR_INVALID_WASM",
      `${what} exports no proxy_abi_version_* marker; Envoy would not load it as a Proxy-Wasm plugin`,
    );
  }
}
