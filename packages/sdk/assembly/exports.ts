// Re-export this from a plugin's entry file: it makes the module a Proxy-Wasm v0.2.1 plugin.
//   export * from "@proxy-wasm-ts/sdk/assembly/exports";
export * from "./abi/exports";
