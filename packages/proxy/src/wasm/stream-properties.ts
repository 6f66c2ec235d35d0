/**
 * Envoy attributes of one stream or connection, as the host's property bag. Values are getters so plugins
 * see the current state (the upstream host once chosen, the route after clear_route_cache).
 */
import type { Properties, PropertyValue } from "@proxy-wasm-ts/host";
import type { StreamInfo } from "../stream-info.ts";

function port(address: string): number | undefined {
  const i = address.lastIndexOf(":");
  const n = Number(address.slice(i + 1));
  return i > 0 && Number.isInteger(n) ? n : undefined;
}

export interface RouteView {
  routeName(): string | undefined;
  virtualHostName(): string | undefined;
  routeMetadata(): Record<string, unknown> | undefined;
}

/** Converts JSON (node metadata, route metadata) to property values (null becomes an empty string). */
export function jsonToProperty(value: unknown): PropertyValue {
  if (value === null || value === undefined) return "";
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map(jsonToProperty);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonToProperty(v)]),
  );
}

export function streamProperties(info: StreamInfo, route?: RouteView): Properties {
  const bag: Record<string, PropertyValue | undefined> = {};
  const define = (key: string, get: () => PropertyValue | undefined) =>
    Object.defineProperty(bag, key, { get, enumerable: true });
  define("source.address", () => info.downstreamRemoteAddress);
  define("source.port", () => port(info.downstreamRemoteAddress));
  define("destination.address", () => info.downstreamLocalAddress);
  define("destination.port", () => port(info.downstreamLocalAddress));
  define("connection.id", () => BigInt(info.connectionId));
  define("connection.mtls", () => false);
  define("upstream.address", () => info.upstreamHost);
  define("upstream.port", () => (info.upstreamHost ? port(info.upstreamHost) : undefined));
  define("upstream.local_address", () => info.upstreamLocalAddress);
  define("upstream.transport_failure_reason", () => info.upstreamTransportFailureReason || undefined);
  define("xds.cluster_name", () => info.upstreamCluster);
  define("cluster_name", () => info.upstreamCluster);
  define("xds.listener_direction", () => 0);
  define("response.code_details", () => info.responseCodeDetails || undefined);
  define("connection.termination_details", () => info.connectionTerminationDetails || undefined);
  if (route) {
    define("xds.route_name", () => route.routeName());
    define("route_name", () => route.routeName());
    define("xds.virtual_host_name", () => route.virtualHostName());
    define("xds.route_metadata", () => {
      const m = route.routeMetadata();
      return m ? jsonToProperty({ filter_metadata: m }) : undefined;
    });
  }
  return bag as Properties;
}
