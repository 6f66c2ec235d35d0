// header-mutation: sets one header (x-training: envoy-wasm by default) on the request going upstream
// and on the response going downstream.

import {
  Action,
  HttpContext,
  RootContext,
  logError,
  logInfo,
  registerRootContext,
  requestHeaders,
  responseHeaders,
} from "@proxy-wasm-ts/sdk/assembly";
import { HeaderConfig, parseHeaderConfig } from "./header-config";

export * from "@proxy-wasm-ts/sdk/assembly/exports";

class HeaderMutationRoot extends RootContext {
  config: HeaderConfig = new HeaderConfig();

  onConfigure(configuration: ArrayBuffer): bool {
    const config = parseHeaderConfig(configuration);
    if (config.error.length > 0) {
      logError("header-mutation: bad configuration: " + config.error);
      return false;
    }
    this.config = config;
    logInfo("header-mutation: setting " + config.header + ": " + config.value);
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new HeaderMutationStream(contextId, this);
  }
}

class HeaderMutationStream extends HttpContext {
  constructor(
    id: u32,
    readonly plugin: HeaderMutationRoot,
  ) {
    super(id, plugin);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): Action {
    const config = this.plugin.config;
    // Replace, not add: a client must not be able to smuggle its own value past the filter.
    if (config.onRequest) requestHeaders.set(config.header, config.value);
    return Action.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): Action {
    const config = this.plugin.config;
    if (config.onResponse) responseHeaders.set(config.header, config.value);
    return Action.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new HeaderMutationRoot(contextId));
