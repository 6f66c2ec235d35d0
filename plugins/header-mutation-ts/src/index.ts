// header-mutation (TypeScript twin of plugins/header-mutation): sets one header (x-training: envoy-wasm by
// default) on the request going upstream and on the response going downstream.

import { definePlugin, log } from "@proxy-wasm-ts/js";
import { type HeaderConfig, parseHeaderConfig } from "./header-config.ts";

definePlugin<HeaderConfig>({
  configure(text) {
    const config = parseHeaderConfig(text);
    log.info(`header-mutation: setting ${config.header}: ${config.value}`);
    return config;
  },

  onRequestHeaders(request, { config }) {
    // Replace, not add: a client must not be able to smuggle its own value past the filter.
    if (config.onRequest) request.headers.set(config.header, config.value);
  },

  onResponseHeaders(response, { config }) {
    if (config.onResponse) response.headers.set(config.header, config.value);
  },
});
