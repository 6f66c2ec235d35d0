// Typed getters for the Envoy attributes plugins read most, decoded from Envoy's wire encodings
// (strings as-is, integers as 8-byte little-endian, timestamps/durations as int64 nanoseconds).
// Strings are null and numbers are -1 when the attribute is not available in the current phase.

import { getPropertyBool, getPropertyInt, getPropertyMap, getPropertyText } from "./properties";
import { HeaderList } from "./headers";

/** Downstream peer address; on Envoy "ip:port". */
export function sourceAddress(): string | null {
  return getPropertyText(["source", "address"]);
}
/** Downstream peer port. */
export function sourcePort(): i64 {
  return getPropertyInt(["source", "port"]);
}
/** Local address the downstream connection arrived on; on Envoy "ip:port". */
export function destinationAddress(): string | null {
  return getPropertyText(["destination", "address"]);
}
/** Local port the downstream connection arrived on. */
export function destinationPort(): i64 {
  return getPropertyInt(["destination", "port"]);
}
/** Downstream connection id. */
export function connectionId(): i64 {
  return getPropertyInt(["connection", "id"]);
}
/** True when the downstream TLS client certificate was validated. */
export function connectionMtls(): bool {
  return getPropertyBool(["connection", "mtls"]);
}
/** TLS SNI of the downstream connection. */
export function requestedServerName(): string | null {
  return getPropertyText(["connection", "requested_server_name"]);
}
/** TLS version of the downstream connection. */
export function connectionTlsVersion(): string | null {
  return getPropertyText(["connection", "tls_version"]);
}
/** Request path with query (`request.path`). */
export function requestPath(): string | null {
  return getPropertyText(["request", "path"]);
}
/** Request path without query (`request.url_path`). */
export function requestUrlPath(): string | null {
  return getPropertyText(["request", "url_path"]);
}
/** Request host / authority. */
export function requestHost(): string | null {
  return getPropertyText(["request", "host"]);
}
/** Request method. */
export function requestMethod(): string | null {
  return getPropertyText(["request", "method"]);
}
/** Request scheme. */
export function requestScheme(): string | null {
  return getPropertyText(["request", "scheme"]);
}
/** Request id (`x-request-id`). */
export function requestId(): string | null {
  return getPropertyText(["request", "id"]);
}
/** Request protocol, e.g. "HTTP/1.1". */
export function requestProtocol(): string | null {
  return getPropertyText(["request", "protocol"]);
}
/** Request user agent. */
export function requestUserAgent(): string | null {
  return getPropertyText(["request", "useragent"]);
}
/** Time of the first request byte, nanoseconds since the epoch. */
export function requestTimeNanos(): i64 {
  return getPropertyInt(["request", "time"]);
}
/** Total request duration in nanoseconds (available once the request is complete). */
export function requestDurationNanos(): i64 {
  return getPropertyInt(["request", "duration"]);
}
/** Request body size. */
export function requestSize(): i64 {
  return getPropertyInt(["request", "size"]);
}
/** Request size including headers and trailers. */
export function requestTotalSize(): i64 {
  return getPropertyInt(["request", "total_size"]);
}
/** All request headers as a map attribute. */
export function requestHeadersAttribute(): HeaderList | null {
  return getPropertyMap(["request", "headers"]);
}
/** Response status code. */
export function responseCode(): i64 {
  return getPropertyInt(["response", "code"]);
}
/** Response code details, e.g. "via_upstream". */
export function responseCodeDetails(): string | null {
  return getPropertyText(["response", "code_details"]);
}
/** Response body size. */
export function responseSize(): i64 {
  return getPropertyInt(["response", "size"]);
}
/** Response size including headers and trailers. */
export function responseTotalSize(): i64 {
  return getPropertyInt(["response", "total_size"]);
}
/** Upstream host address ("ip:port"). */
export function upstreamAddress(): string | null {
  return getPropertyText(["upstream", "address"]);
}
/** Plugin name from the filter configuration. */
export function pluginName(): string | null {
  return getPropertyText(["plugin_name"]);
}
/** Plugin root id from the filter configuration. */
export function pluginRootId(): string | null {
  return getPropertyText(["plugin_root_id"]);
}
/** Plugin VM id from the filter configuration. */
export function pluginVmId(): string | null {
  return getPropertyText(["plugin_vm_id"]);
}
/** Name of the route that matched. */
export function routeName(): string | null {
  return getPropertyText(["xds", "route_name"]);
}
/** Name of the upstream cluster. */
export function clusterName(): string | null {
  return getPropertyText(["xds", "cluster_name"]);
}
/** A string entry of the node metadata, e.g. Istio's `NAME`, `NAMESPACE`, `MESH_ID`. */
export function nodeMetadata(key: string): string | null {
  return getPropertyText(["node", "metadata", key]);
}
