/**
 * Finding filters in a bootstrap (canonical proto-JSON, proto field names): the network filters of the
 * static listeners, and the Wasm filters among them and inside HTTP connection managers. Shared by the
 * semantic checks and by `pwts istio`, which reads a plugin's settings from its envoy.yaml.
 */
import { asList, asObject, type JsonObject as Json } from "../json-value.ts";

export const hcmType = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const httpWasmType = "envoy.extensions.filters.http.wasm.v3.Wasm";
const networkWasmType = "envoy.extensions.filters.network.wasm.v3.Wasm";

/**
 * Unwraps `typed_config`: an Any (`@type` plus fields) or a TypedStruct (`type_url` plus `value`). `path`
 * is what to append to the typed_config path to reach `config` (`.value` for a TypedStruct).
 */
export function typedConfig(v: unknown): { typeName: string; config: Json; path: string } | undefined {
  const o = asObject(v);
  if (!o) return undefined;
  const typeUrl = String(o["@type"] ?? "");
  const typeName = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
  if (typeName === "xds.type.v3.TypedStruct" || typeName === "udpa.type.v1.TypedStruct") {
    const inner = String(o.type_url ?? "");
    return {
      typeName: inner.slice(inner.lastIndexOf("/") + 1),
      config: asObject(o.value) ?? {},
      path: ".value",
    };
  }
  const { "@type": _, ...rest } = o;
  return { typeName, config: rest, path: "" };
}

/** A network filter of a static listener, with its unwrapped typed config. */
export interface ListenerFilter {
  typeName: string;
  config: Json;
  /** Field path of `config`, e.g. `static_resources.listeners[0].filter_chains[0].filters[0].typed_config`. */
  configPath: string;
}

/** Every network filter with a typed config, in filter chains and default filter chains. */
export function listenerFilters(bootstrap: Json): ListenerFilter[] {
  const found: ListenerFilter[] = [];
  asList(asObject(bootstrap.static_resources)?.listeners).forEach((l, li) => {
    const listener = asObject(l) ?? {};
    const chains = asList(listener.filter_chains).map((c, ci) => ({
      chain: asObject(c) ?? {},
      path: `static_resources.listeners[${li}].filter_chains[${ci}]`,
    }));
    const fallback = asObject(listener.default_filter_chain);
    if (fallback)
      chains.push({ chain: fallback, path: `static_resources.listeners[${li}].default_filter_chain` });
    for (const { chain, path } of chains) {
      asList(chain.filters).forEach((f, fi) => {
        const typed = typedConfig(asObject(f)?.typed_config);
        if (typed) {
          found.push({
            typeName: typed.typeName,
            config: typed.config,
            configPath: `${path}.filters[${fi}].typed_config${typed.path}`,
          });
        }
      });
    }
  });
  return found;
}

/** A Wasm filter: its kind, its `config` (Envoy's PluginConfig) and that config's field path. */
export interface WasmFilter {
  type: "HTTP" | "NETWORK";
  config: Json;
  path: string;
}

/** Every Wasm filter: network filters and HTTP filters inside connection managers. */
export function wasmFilters(bootstrap: Json): WasmFilter[] {
  const found: WasmFilter[] = [];
  for (const filter of listenerFilters(bootstrap)) {
    if (filter.typeName === networkWasmType) {
      found.push({
        type: "NETWORK",
        config: asObject(filter.config.config) ?? {},
        path: `${filter.configPath}.config`,
      });
    }
    if (filter.typeName !== hcmType) continue;
    asList(filter.config.http_filters).forEach((h, hi) => {
      const typed = typedConfig(asObject(h)?.typed_config);
      if (typed?.typeName !== httpWasmType) return;
      found.push({
        type: "HTTP",
        config: asObject(typed.config.config) ?? {},
        path: `${filter.configPath}.http_filters[${hi}].typed_config${typed.path}.config`,
      });
    });
  }
  return found;
}
