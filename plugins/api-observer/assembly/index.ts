// api-observer: a passive Proxy-Wasm HTTP filter that records each API call (headers, bodies,
// workloads, status, latency), redacts secrets inside the proxy and ships batched events to the
// ingestion service (seed: anurag-rajawat/tutorials envoy-wasm-filter).

import { RootContext, registerRootContext } from "@proxy-wasm-ts/sdk/assembly";
import { ObserverRoot } from "./observer-root";

export * from "@proxy-wasm-ts/sdk/assembly/exports";

registerRootContext((contextId: u32): RootContext => new ObserverRoot(contextId));
