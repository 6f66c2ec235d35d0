/** `@proxy-wasm-ts/ship`: ship Proxy-Wasm plugins to Envoy and Istio. */
export {};
