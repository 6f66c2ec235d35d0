/**
 * Envoy's foreign functions (`source/extensions/common/wasm/foreign.cc`) that plugins rely on:
 * - `set_envoy_filter_state`: protobuf `SetEnvoyFilterStateArguments{string path = 1; string value = 2;
 *   LifeSpan span = 3}`; the key must be one Envoy has an object factory for (else BAD_ARGUMENT);
 * - `clear_route_cache`: no arguments; the HTTP stream re-picks its route;
 * - `declare_property`: protobuf `DeclarePropertyArguments{name = 1; readonly = 2; type = 3; schema = 4;
 *   span = 5}`, making later `set_property` on a read-only name fail after its first write.
 */
import type { Context } from "../context.ts";
import { Status } from "../types.ts";
import { readProtoFields } from "./protobuf.ts";

/** What a foreign function receives. */
export interface ForeignFunctionCall {
  /** The context the plugin called from (after `proxy_set_effective_context`). */
  context: Context;
  args: Uint8Array;
}

/** A host function callable with `proxy_call_foreign_function`; returns a status, or status + result bytes. */
export type ForeignFunction = (call: ForeignFunctionCall) => Status | { status: Status; result?: Uint8Array };

/** Filter-state keys Envoy can build objects for (a registered `StreamInfo::FilterState::ObjectFactory`). */
export const ENVOY_FILTER_STATE_KEYS: readonly string[] = [
  "envoy.tcp_proxy.cluster",
  "envoy.tcp_proxy.per_connection_idle_timeout_ms",
  "envoy.network.upstream_server_name",
  "envoy.network.application_protocols",
  "envoy.network.upstream_subject_alt_names",
  "envoy.network.transport_socket.original_dst_address",
  "envoy.network.network_namespace",
  "envoy.upstream.dynamic_host",
  "envoy.upstream.dynamic_port",
  "envoy.filters.listener.original_dst.local_ip",
  "envoy.filters.listener.original_dst.remote_ip",
  "envoy.string",
  "envoy.hashable_string",
];

const decoder = new TextDecoder();

/** Builds Envoy's foreign functions; `extraFilterStateKeys` extends the accepted filter-state keys. */
export function envoyForeignFunctions(
  extraFilterStateKeys: readonly string[] = [],
): Map<string, ForeignFunction> {
  const keys = new Set([...ENVOY_FILTER_STATE_KEYS, ...extraFilterStateKeys]);
  const fns = new Map<string, ForeignFunction>();
  fns.set("set_envoy_filter_state", ({ context, args }) => {
    const fields = readProtoFields(args);
    if (!fields) return Status.BadArgument;
    const path = fields.get(1);
    const value = fields.get(2);
    if (!(path instanceof Uint8Array)) return Status.BadArgument;
    const key = decoder.decode(path);
    if (!keys.has(key)) return Status.BadArgument;
    context.setFilterState(key, {
      value: value instanceof Uint8Array ? value : new Uint8Array(0),
      readonly: false,
    });
    return Status.Ok;
  });
  fns.set("clear_route_cache", ({ context }) => {
    context.clearRouteCache();
    return Status.Ok;
  });
  fns.set("declare_property", ({ context, args }) => {
    const fields = readProtoFields(args);
    const name = fields?.get(1);
    if (!fields || !(name instanceof Uint8Array) || name.length === 0) return Status.BadArgument;
    const root = context.rootContext;
    if (!root) return Status.BadArgument;
    const schema = fields.get(4);
    root.declaredProperties.set(decoder.decode(name), {
      name: decoder.decode(name),
      readonly: fields.get(2) === 1n,
      type: Number(fields.get(3) ?? 0n),
      schema: schema instanceof Uint8Array ? schema : new Uint8Array(0),
      span: Number(fields.get(5) ?? 0n),
    });
    return Status.Ok;
  });
  return fns;
}
