// tcp-routing: a Proxy-Wasm network filter that routes each TCP connection to a cluster chosen from
// its source address (seed: proxy-wasm-rust-sdk examples/envoy_tcp_routing, SiiiTschiii/wasmerang).

import { RootContext, registerRootContext } from "@proxy-wasm-ts/sdk/assembly";
import { TcpRouterRoot } from "./tcp-router";

export * from "@proxy-wasm-ts/sdk/assembly/exports";

registerRootContext((contextId: u32): RootContext => new TcpRouterRoot(contextId));
