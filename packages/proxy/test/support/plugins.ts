// Moved to @proxy-wasm-ts/test-support/proxy-plugins (the CLI's tests and the benchmarks use them too). Kept
// only for the HTTP/2 and gRPC tests still being written beside it; add new plugins there, and delete this
// file once no test imports it.
export * from "@proxy-wasm-ts/test-support/proxy-plugins";
