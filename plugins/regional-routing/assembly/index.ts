// regional-routing: a Proxy-Wasm HTTP filter that routes each request to the cluster of its host's
// region, asked from a discovery service (seed: ElvinEfendi/envoy-wasm-regional-routing).

import { RootContext, registerRootContext } from "@proxy-wasm-ts/sdk/assembly";
import { RegionalRouterRoot } from "./regional-router";

export * from "@proxy-wasm-ts/sdk/assembly/exports";

registerRootContext((contextId: u32): RootContext => new RegionalRouterRoot(contextId));
