// Typed getters for the Envoy attributes plugins read most, decoded from Envoy's wire encodings
// (strings as-is, integers as 8-byte little-endian, timestamps/durations as int64 nanoseconds).
// Strings are null and numbers are -1 when the attribute is not available in the current phase.

import { toText } from "./bytes";
import { HeaderList } from "./headers";
import { getPropertyBool, getPropertyJoined, getPropertyMap, getPropertyText, intValue } from "./properties";

// Paths are constant strings with NUL between segments (getPropertyJoined): static data, so a getter
// allocates nothing for its path, and a plugin that never calls a getter carries none of them.

function textAt(joinedPath: string): string | null {
  const value = getPropertyJoined(joinedPath);
  return value === null ? null : toText(value);
}

function intAt(joinedPath: string): i64 {
  return intValue(getPropertyJoined(joinedPath), -1);
}

/** Downstream peer address; on Envoy "ip:port". */
export function sourceAddress(): string | null {
  return textAt("source\0address");
}
/** Downstream peer port. */
export function sourcePort(): i64 {
  return intAt("source\0port");
}
/** Local address the downstream connection arrived on; on Envoy "ip:port". */
export function destinationAddress(): string | null {
  return textAt("destination\0address");
}
/** Local port the downstream connection arrived on. */
export function destinationPort(): i64 {
  return intAt("destination\0port");
}
/** Downstream connection id. */
export function connectionId(): i64 {
  return intAt("connection\0id");
}
/** True when the downstream TLS client certificate was validated. */
export function connectionMtls(): bool {
  return getPropertyBool(["connection", "mtls"]);
}
/** TLS SNI of the downstream connection. */
export function requestedServerName(): string | null {
  return textAt("connection\0requested_server_name");
}
/** TLS version of the downstream connection. */
export function connectionTlsVersion(): string | null {
  return textAt("connection\0tls_version");
}
/** Request path with query (`request.path`). */
export function requestPath(): string | null {
  return textAt("request\0path");
}
/** Request path without query (`request.url_path`). */
export function requestUrlPath(): string | null {
  return textAt("request\0url_path");
}
/** Request host / authority. */
export function requestHost(): string | null {
  return textAt("request\0host");
}
/** Request method. */
export function requestMethod(): string | null {
  return textAt("request\0method");
}
/** Request scheme. */
export function requestScheme(): string | null {
  return textAt("request\0scheme");
}
/** Request id (`x-request-id`). */
export function requestId(): string | null {
  return textAt("request\0id");
}
/** Request protocol, e.g. "HTTP/1.1". */
export function requestProtocol(): string | null {
  return textAt("request\0protocol");
}
/** Request user agent. */
export function requestUserAgent(): string | null {
  return textAt("request\0useragent");
}
/** Time of the first request byte, nanoseconds since the epoch. */
export function requestTimeNanos(): i64 {
  return intAt("request\0time");
}
/** Total request duration in nanoseconds (available once the request is complete). */
export function requestDurationNanos(): i64 {
  return intAt("request\0duration");
}
/** Request body size. */
export function requestSize(): i64 {
  return intAt("request\0size");
}
/** Request size including headers and trailers. */
export function requestTotalSize(): i64 {
  return intAt("request\0total_size");
}
/** All request headers as a map attribute. */
export function requestHeadersAttribute(): HeaderList | null {
  return getPropertyMap(["request", "headers"]);
}
/** Response status code. */
export function responseCode(): i64 {
  return intAt("response\0code");
}
/** Response code details, e.g. "via_upstream". */
export function responseCodeDetails(): string | null {
  return textAt("response\0code_details");
}
/** Response body size. */
export function responseSize(): i64 {
  return intAt("response\0size");
}
/** Response size including headers and trailers. */
export function responseTotalSize(): i64 {
  return intAt("response\0total_size");
}
/** Upstream host address ("ip:port"). */
export function upstreamAddress(): string | null {
  return textAt("upstream\0address");
}
/** Plugin name from the filter configuration. */
export function pluginName(): string | null {
  return textAt("plugin_name");
}
/** Plugin root id from the filter configuration. */
export function pluginRootId(): string | null {
  return textAt("plugin_root_id");
}
/** Plugin VM id from the filter configuration. */
export function pluginVmId(): string | null {
  return textAt("plugin_vm_id");
}
/** Name of the route that matched. */
export function routeName(): string | null {
  return textAt("xds\0route_name");
}
/** Name of the upstream cluster. */
export function clusterName(): string | null {
  return textAt("xds\0cluster_name");
}
/** A string entry of the node metadata, e.g. Istio's `NAME`, `NAMESPACE`, `MESH_ID`. */
export function nodeMetadata(key: string): string | null {
  return getPropertyText(["node", "metadata", key]);
}
