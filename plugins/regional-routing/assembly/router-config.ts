// The plugin configuration (JSON). Every field is optional:
//
//   {"discovery_cluster": "discovery_service", "discovery_authority": "discovery",
//    "discovery_path": "/v1/region", "timeout_ms": 1000, "cache_ttl_ms": 60000, "cache_max_entries": 1024,
//    "fallback_region": "us_east1", "allowed_regions": ["us_east1", "us_central1"],
//    "region_header": "region", "processed_by": "Regional Router"}
//
// Without `fallback_region`, a request whose region cannot be found gets a 503 with the reason.

import { JsonKind, JsonValue, parseJsonBytes } from "@proxy-wasm-ts/sdk/assembly";

const KNOWN_FIELDS: Array<string> = [
  "discovery_cluster",
  "discovery_authority",
  "discovery_path",
  "timeout_ms",
  "cache_ttl_ms",
  "cache_max_entries",
  "fallback_region",
  "allowed_regions",
  "region_header",
  "processed_by",
];

export class RouterConfig {
  /** Why the configuration was rejected; empty when valid. */
  error: string = "";
  discoveryCluster: string = "discovery_service";
  discoveryAuthority: string = "";
  discoveryPath: string = "/v1/region";
  timeoutMs: u32 = 1000;
  cacheTtlMs: u64 = 60_000;
  cacheMaxEntries: i32 = 1024;
  fallbackRegion: string | null = null;
  allowedRegions: Array<string> = new Array<string>();
  regionHeader: string = "region";
  processedBy: string = "Regional Router";

  /** True when `region` may be routed to: a sane cluster name, and listed when a list is given. */
  acceptsRegion(region: string): bool {
    if (!isClusterName(region)) return false;
    return this.allowedRegions.length == 0 || this.allowedRegions.includes(region);
  }
}

/** Cluster names as Envoy prints them: letters, digits and `_ - . : |`, at most 128 characters. */
export function isClusterName(name: string): bool {
  if (name.length == 0 || name.length > 128) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45 || c == 46 || c == 58 || c == 124;
    if (!ok) return false;
  }
  return true;
}

function invalid(config: RouterConfig, message: string): RouterConfig {
  config.error = message;
  return config;
}

function stringField(json: JsonValue, key: string, config: RouterConfig): string | null {
  const value = json.get(key);
  if (value === null) return null;
  if (value.kind != JsonKind.String || value.stringValue.length == 0) {
    invalid(config, `${key} must be a non-empty string`);
    return null;
  }
  return value.stringValue;
}

function integerField(json: JsonValue, key: string, min: f64, max: f64, config: RouterConfig): f64 {
  const value = json.get(key);
  if (value === null) return -1;
  if (value.kind != JsonKind.Number || value.numberValue != Math.floor(value.numberValue) || value.numberValue < min || value.numberValue > max) {
    invalid(config, `${key} must be an integer from ${<i64>min} to ${<i64>max}`);
    return -1;
  }
  return value.numberValue;
}

export function parseRouterConfig(bytes: ArrayBuffer): RouterConfig {
  const config = new RouterConfig();
  if (bytes.byteLength == 0) {
    config.discoveryAuthority = config.discoveryCluster;
    return config;
  }
  const json = parseJsonBytes(bytes);
  if (json === null || !json.isObject) return invalid(config, "configuration is not a JSON object");
  const keys = json.keys!;
  for (let i = 0; i < keys.length; i++) {
    if (!KNOWN_FIELDS.includes(keys[i])) {
      return invalid(config, `unknown field "${keys[i]}" (expected one of ${KNOWN_FIELDS.join(", ")})`);
    }
  }
  const cluster = stringField(json, "discovery_cluster", config);
  if (cluster !== null) config.discoveryCluster = cluster;
  const authority = stringField(json, "discovery_authority", config);
  config.discoveryAuthority = authority !== null ? authority : config.discoveryCluster;
  const path = stringField(json, "discovery_path", config);
  if (path !== null) {
    if (path.charCodeAt(0) != 47) return invalid(config, "discovery_path must start with /");
    config.discoveryPath = path;
  }
  const header = stringField(json, "region_header", config);
  if (header !== null) config.regionHeader = header.toLowerCase();
  const processedBy = stringField(json, "processed_by", config);
  if (processedBy !== null) config.processedBy = processedBy;
  const timeout = integerField(json, "timeout_ms", 1, 60_000, config);
  if (timeout >= 0) config.timeoutMs = <u32>timeout;
  const ttl = integerField(json, "cache_ttl_ms", 0, 86_400_000, config);
  if (ttl >= 0) config.cacheTtlMs = <u64>ttl;
  const entries = integerField(json, "cache_max_entries", 0, 1_000_000, config);
  if (entries >= 0) config.cacheMaxEntries = <i32>entries;
  const allowed = json.get("allowed_regions");
  if (allowed !== null) {
    if (!allowed.isArray) return invalid(config, "allowed_regions must be an array of cluster names");
    const names = allowed.stringItems();
    if (names.length != allowed.length) return invalid(config, "allowed_regions must be an array of cluster names");
    for (let i = 0; i < names.length; i++) {
      if (!isClusterName(names[i])) return invalid(config, `allowed_regions[${i}] "${names[i]}" is not a cluster name`);
    }
    config.allowedRegions = names;
  }
  const fallback = json.get("fallback_region");
  if (fallback !== null && !fallback.isNull) {
    if (fallback.kind != JsonKind.String || !config.acceptsRegion(fallback.stringValue)) {
      return invalid(config, "fallback_region must be a cluster name (and in allowed_regions when that is set)");
    }
    config.fallbackRegion = fallback.stringValue;
  }
  return config;
}
