// Typed getters for the Envoy attributes plugins read most, decoded from Envoy's wire encodings
// (strings as-is, integers as 8-byte little-endian, timestamps/durations as int64 nanoseconds).
// Strings are null and numbers are -1 when the attribute is not available in the current phase.

import { toText } from "./bytes";
import { HeaderList } from "./headers";
import { getPropertyBool, getPropertyMap, getPropertyText, intValue, readProperty } from "./properties";

// Paths in static memory (StaticArray literals of constant strings): a getter allocates no path array.
const SOURCE_ADDRESS: StaticArray<string> = ["source", "address"];
const SOURCE_PORT: StaticArray<string> = ["source", "port"];
const DESTINATION_ADDRESS: StaticArray<string> = ["destination", "address"];
const DESTINATION_PORT: StaticArray<string> = ["destination", "port"];
const CONNECTION_ID: StaticArray<string> = ["connection", "id"];
const CONNECTION_REQUESTED_SERVER_NAME: StaticArray<string> = ["connection", "requested_server_name"];
const CONNECTION_TLS_VERSION: StaticArray<string> = ["connection", "tls_version"];
const REQUEST_PATH: StaticArray<string> = ["request", "path"];
const REQUEST_URL_PATH: StaticArray<string> = ["request", "url_path"];
const REQUEST_HOST: StaticArray<string> = ["request", "host"];
const REQUEST_METHOD: StaticArray<string> = ["request", "method"];
const REQUEST_SCHEME: StaticArray<string> = ["request", "scheme"];
const REQUEST_ID: StaticArray<string> = ["request", "id"];
const REQUEST_PROTOCOL: StaticArray<string> = ["request", "protocol"];
const REQUEST_USERAGENT: StaticArray<string> = ["request", "useragent"];
const REQUEST_TIME: StaticArray<string> = ["request", "time"];
const REQUEST_DURATION: StaticArray<string> = ["request", "duration"];
const REQUEST_SIZE: StaticArray<string> = ["request", "size"];
const REQUEST_TOTAL_SIZE: StaticArray<string> = ["request", "total_size"];
const RESPONSE_CODE: StaticArray<string> = ["response", "code"];
const RESPONSE_CODE_DETAILS: StaticArray<string> = ["response", "code_details"];
const RESPONSE_SIZE: StaticArray<string> = ["response", "size"];
const RESPONSE_TOTAL_SIZE: StaticArray<string> = ["response", "total_size"];
const UPSTREAM_ADDRESS: StaticArray<string> = ["upstream", "address"];
const PLUGIN_NAME: StaticArray<string> = ["plugin_name"];
const PLUGIN_ROOT_ID: StaticArray<string> = ["plugin_root_id"];
const PLUGIN_VM_ID: StaticArray<string> = ["plugin_vm_id"];
const XDS_ROUTE_NAME: StaticArray<string> = ["xds", "route_name"];
const XDS_CLUSTER_NAME: StaticArray<string> = ["xds", "cluster_name"];

function textAt(path: StaticArray<string>): string | null {
  const value = readProperty(changetype<usize>(path), path.length);
  return value === null ? null : toText(value);
}

function intAt(path: StaticArray<string>): i64 {
  return intValue(readProperty(changetype<usize>(path), path.length), -1);
}

/** Downstream peer address; on Envoy "ip:port". */
export function sourceAddress(): string | null {
  return textAt(SOURCE_ADDRESS);
}
/** Downstream peer port. */
export function sourcePort(): i64 {
  return intAt(SOURCE_PORT);
}
/** Local address the downstream connection arrived on; on Envoy "ip:port". */
export function destinationAddress(): string | null {
  return textAt(DESTINATION_ADDRESS);
}
/** Local port the downstream connection arrived on. */
export function destinationPort(): i64 {
  return intAt(DESTINATION_PORT);
}
/** Downstream connection id. */
export function connectionId(): i64 {
  return intAt(CONNECTION_ID);
}
/** True when the downstream TLS client certificate was validated. */
export function connectionMtls(): bool {
  return getPropertyBool(["connection", "mtls"]);
}
/** TLS SNI of the downstream connection. */
export function requestedServerName(): string | null {
  return textAt(CONNECTION_REQUESTED_SERVER_NAME);
}
/** TLS version of the downstream connection. */
export function connectionTlsVersion(): string | null {
  return textAt(CONNECTION_TLS_VERSION);
}
/** Request path with query (`request.path`). */
export function requestPath(): string | null {
  return textAt(REQUEST_PATH);
}
/** Request path without query (`request.url_path`). */
export function requestUrlPath(): string | null {
  return textAt(REQUEST_URL_PATH);
}
/** Request host / authority. */
export function requestHost(): string | null {
  return textAt(REQUEST_HOST);
}
/** Request method. */
export function requestMethod(): string | null {
  return textAt(REQUEST_METHOD);
}
/** Request scheme. */
export function requestScheme(): string | null {
  return textAt(REQUEST_SCHEME);
}
/** Request id (`x-request-id`). */
export function requestId(): string | null {
  return textAt(REQUEST_ID);
}
/** Request protocol, e.g. "HTTP/1.1". */
export function requestProtocol(): string | null {
  return textAt(REQUEST_PROTOCOL);
}
/** Request user agent. */
export function requestUserAgent(): string | null {
  return textAt(REQUEST_USERAGENT);
}
/** Time of the first request byte, nanoseconds since the epoch. */
export function requestTimeNanos(): i64 {
  return intAt(REQUEST_TIME);
}
/** Total request duration in nanoseconds (available once the request is complete). */
export function requestDurationNanos(): i64 {
  return intAt(REQUEST_DURATION);
}
/** Request body size. */
export function requestSize(): i64 {
  return intAt(REQUEST_SIZE);
}
/** Request size including headers and trailers. */
export function requestTotalSize(): i64 {
  return intAt(REQUEST_TOTAL_SIZE);
}
/** All request headers as a map attribute. */
export function requestHeadersAttribute(): HeaderList | null {
  return getPropertyMap(["request", "headers"]);
}
/** Response status code. */
export function responseCode(): i64 {
  return intAt(RESPONSE_CODE);
}
/** Response code details, e.g. "via_upstream". */
export function responseCodeDetails(): string | null {
  return textAt(RESPONSE_CODE_DETAILS);
}
/** Response body size. */
export function responseSize(): i64 {
  return intAt(RESPONSE_SIZE);
}
/** Response size including headers and trailers. */
export function responseTotalSize(): i64 {
  return intAt(RESPONSE_TOTAL_SIZE);
}
/** Upstream host address ("ip:port"). */
export function upstreamAddress(): string | null {
  return textAt(UPSTREAM_ADDRESS);
}
/** Plugin name from the filter configuration. */
export function pluginName(): string | null {
  return textAt(PLUGIN_NAME);
}
/** Plugin root id from the filter configuration. */
export function pluginRootId(): string | null {
  return textAt(PLUGIN_ROOT_ID);
}
/** Plugin VM id from the filter configuration. */
export function pluginVmId(): string | null {
  return textAt(PLUGIN_VM_ID);
}
/** Name of the route that matched. */
export function routeName(): string | null {
  return textAt(XDS_ROUTE_NAME);
}
/** Name of the upstream cluster. */
export function clusterName(): string | null {
  return textAt(XDS_CLUSTER_NAME);
}
/** A string entry of the node metadata, e.g. Istio's `NAME`, `NAMESPACE`, `MESH_ID`. */
export function nodeMetadata(key: string): string | null {
  return getPropertyText(["node", "metadata", key]);
}
