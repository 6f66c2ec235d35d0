// The plugin configuration: seed 003's three fields plus the capture, redaction and batching options.
//
//   {"upstream_name": "ingestion-service", "authority": "ingestion-service", "path": "/api/v1/events",
//    "max_body_bytes": 65536, "redact_headers": ["x-api-key"], "redact_body_fields": ["password"],
//    "batch_size": 50, "flush_interval_ms": 1000, "max_buffered_events": 1000,
//    "max_buffered_bytes": 4194304, "timeout_ms": 2000, "auth_token": "..."}

import { JsonKind, JsonValue, parseJsonBytes } from "@proxy-wasm-ts/sdk/assembly";

/** The ingestion service refuses bodies over 1,000,000 bytes (services/ingestion EVENT_LIMITS.bodyBytes). */
export const INGESTION_MAX_BODY_BYTES: i32 = 1_000_000;

/** Body fields and query parameters whose values never leave the proxy unless configured otherwise. */
const DEFAULT_BODY_FIELDS: Array<string> = [
  "password",
  "passwd",
  "secret",
  "client_secret",
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "api_key",
  "apikey",
];

const KNOWN_FIELDS: Array<string> = [
  "upstream_name",
  "authority",
  "path",
  "max_body_bytes",
  "redact_headers",
  "redact_body_fields",
  "batch_size",
  "flush_interval_ms",
  "max_buffered_events",
  "max_buffered_bytes",
  "timeout_ms",
  "auth_token",
  "traffic_source_name",
  "node_workload",
];

/** Which side of the call the proxy's own workload (`node.metadata` NAME/NAMESPACE) is. */
export enum NodeWorkload {
  /** From `xds.listener_direction`: inbound listeners serve the destination, others the source. */
  Auto = 0,
  Source = 1,
  Destination = 2,
}

export class ObserverConfig {
  /** Why the configuration was rejected; empty when valid. */
  error: string = "";
  upstreamName: string = "";
  authority: string = "";
  path: string = "/api/v1/events";
  maxBodyBytes: i32 = 65536;
  /** Lower-cased header names redacted besides authorization, proxy-authorization, cookie, set-cookie. */
  redactHeaders: Array<string> = new Array<string>();
  redactBodyFields: Array<string> = DEFAULT_BODY_FIELDS;
  batchSize: i32 = 50;
  flushIntervalMs: u32 = 1000;
  maxBufferedEvents: i32 = 1000;
  maxBufferedBytes: i32 = 4 * 1024 * 1024;
  timeoutMs: u32 = 2000;
  authToken: string = "";
  trafficSourceName: string = "Envoy";
  nodeWorkload: NodeWorkload = NodeWorkload.Auto;
}

function fail(config: ObserverConfig, message: string): ObserverConfig {
  config.error = message;
  return config;
}

function readString(json: JsonValue, key: string, config: ObserverConfig): string | null {
  const value = json.get(key);
  if (value === null) return null;
  if (value.kind != JsonKind.String || value.stringValue.length == 0) {
    fail(config, `${key} must be a non-empty string`);
    return null;
  }
  return value.stringValue;
}

function readInteger(json: JsonValue, key: string, min: i64, max: i64, config: ObserverConfig): i64 {
  const value = json.get(key);
  if (value === null) return -1;
  const n = value.numberValue;
  if (value.kind != JsonKind.Number || n != Math.floor(n) || n < <f64>min || n > <f64>max) {
    fail(config, `${key} must be an integer from ${min} to ${max}`);
    return -1;
  }
  return <i64>n;
}

function readNames(json: JsonValue, key: string, config: ObserverConfig): Array<string> | null {
  const value = json.get(key);
  if (value === null) return null;
  const names = value.isArray ? value.stringItems() : new Array<string>();
  if (!value.isArray || names.length != value.length) {
    fail(config, `${key} must be an array of strings`);
    return null;
  }
  const lower = new Array<string>();
  for (let i = 0; i < names.length; i++) {
    if (names[i].length == 0) {
      fail(config, `${key}[${i}] is empty`);
      return null;
    }
    lower.push(names[i].toLowerCase());
  }
  return lower;
}

export function parseObserverConfig(bytes: ArrayBuffer): ObserverConfig {
  const config = new ObserverConfig();
  const json = parseJsonBytes(bytes);
  if (json === null || !json.isObject) {
    return fail(config, "configuration must be a JSON object with upstream_name, authority and path");
  }
  const keys = json.keys!;
  for (let i = 0; i < keys.length; i++) {
    if (!KNOWN_FIELDS.includes(keys[i])) {
      return fail(config, `unknown field "${keys[i]}" (expected one of ${KNOWN_FIELDS.join(", ")})`);
    }
  }
  const upstream = readString(json, "upstream_name", config);
  if (upstream === null) return config.error.length > 0 ? config : fail(config, "upstream_name is required");
  config.upstreamName = upstream;
  const authority = readString(json, "authority", config);
  config.authority = authority !== null ? authority : upstream;
  const path = readString(json, "path", config);
  if (path !== null) {
    if (path.charCodeAt(0) != 47) return fail(config, "path must start with /");
    config.path = path;
  }
  const token = readString(json, "auth_token", config);
  if (token !== null) config.authToken = token;
  const source = readString(json, "traffic_source_name", config);
  if (source !== null) config.trafficSourceName = source;
  const side = readString(json, "node_workload", config);
  if (side !== null) {
    if (side == "source") config.nodeWorkload = NodeWorkload.Source;
    else if (side == "destination") config.nodeWorkload = NodeWorkload.Destination;
    else if (side != "auto") return fail(config, `node_workload must be "auto", "source" or "destination"`);
  }
  let n = readInteger(json, "max_body_bytes", 0, INGESTION_MAX_BODY_BYTES, config);
  if (n >= 0) config.maxBodyBytes = <i32>n;
  n = readInteger(json, "batch_size", 1, 10_000, config);
  if (n >= 0) config.batchSize = <i32>n;
  n = readInteger(json, "flush_interval_ms", 10, 3_600_000, config);
  if (n >= 0) config.flushIntervalMs = <u32>n;
  n = readInteger(json, "max_buffered_events", 1, 1_000_000, config);
  if (n >= 0) config.maxBufferedEvents = <i32>n;
  n = readInteger(json, "max_buffered_bytes", 1024, 1 << 30, config);
  if (n >= 0) config.maxBufferedBytes = <i32>n;
  n = readInteger(json, "timeout_ms", 1, 60_000, config);
  if (n >= 0) config.timeoutMs = <u32>n;
  const headers = readNames(json, "redact_headers", config);
  if (headers !== null) config.redactHeaders = headers;
  const fields = readNames(json, "redact_body_fields", config);
  if (fields !== null) config.redactBodyFields = fields;
  return config;
}
