// Moved to @proxy-wasm-ts/test-support/envoy-config (the CLI's tests and the benchmarks use it too). Kept only
// for the HTTP/2 and gRPC tests still being written beside it; delete this file once no test imports it.
export * from "@proxy-wasm-ts/test-support/envoy-config";
