// The plugin configuration (JSON). Every field is optional:
//
//   {"discovery_cluster": "discovery_service", "discovery_authority": "discovery",
//    "discovery_path": "/v1/region", "timeout_ms": 1000, "cache_ttl_ms": 60000, "cache_max_entries": 1024,
//    "fallback_region": "us_east1", "allowed_regions": ["us_east1", "us_central1"],
//    "region_header": "region", "processed_by": "Regional Router"}
//
// Without `fallback_region`, a request whose region cannot be found gets a 503 with the reason.

const KNOWN_FIELDS = [
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
  discoveryCluster = "discovery_service";
  discoveryAuthority = "discovery_service";
  discoveryPath = "/v1/region";
  timeoutMs = 1000;
  cacheTtlMs = 60_000;
  cacheMaxEntries = 1024;
  fallbackRegion: string | null = null;
  allowedRegions: string[] = [];
  regionHeader = "region";
  processedBy = "Regional Router";

  /** Whether discovery may answer `region` (a cluster name, and allowed when a list is set). */
  acceptsRegion(region: string): boolean {
    return (
      isClusterName(region) && (this.allowedRegions.length === 0 || this.allowedRegions.includes(region))
    );
  }
}

/** Cluster names as Envoy prints them: letters, digits and `_ - . : |`, at most 128 characters. */
export const isClusterName = (name: string): boolean => /^[A-Za-z0-9_\-.:|]{1,128}$/.test(name);

function stringField(json: Record<string, unknown>, key: string): string | undefined {
  const value = json[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) throw new Error(`${key} must be a non-empty string`);
  return value;
}

function integerField(
  json: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const value = json[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Reads the configuration; throws with the reason it is invalid. */
export function parseRouterConfig(text: string): RouterConfig {
  const config = new RouterConfig();
  if (text === "") return config;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("configuration is not a JSON object");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("configuration is not a JSON object");
  }
  const raw = json as Record<string, unknown>;
  const unknown = Object.keys(raw).find((key) => !KNOWN_FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new Error(`unknown field "${unknown}" (expected one of ${KNOWN_FIELDS.join(", ")})`);
  }
  config.discoveryCluster = stringField(raw, "discovery_cluster") ?? config.discoveryCluster;
  config.discoveryAuthority = stringField(raw, "discovery_authority") ?? config.discoveryCluster;
  const path = stringField(raw, "discovery_path");
  if (path !== undefined) {
    if (!path.startsWith("/")) throw new Error("discovery_path must start with /");
    config.discoveryPath = path;
  }
  config.regionHeader = stringField(raw, "region_header")?.toLowerCase() ?? config.regionHeader;
  config.processedBy = stringField(raw, "processed_by") ?? config.processedBy;
  config.timeoutMs = integerField(raw, "timeout_ms", 1, 60_000) ?? config.timeoutMs;
  config.cacheTtlMs = integerField(raw, "cache_ttl_ms", 0, 86_400_000) ?? config.cacheTtlMs;
  config.cacheMaxEntries = integerField(raw, "cache_max_entries", 0, 1_000_000) ?? config.cacheMaxEntries;
  const allowed = raw.allowed_regions;
  if (allowed !== undefined) {
    if (!Array.isArray(allowed) || !allowed.every((name) => typeof name === "string")) {
      throw new Error("allowed_regions must be an array of cluster names");
    }
    allowed.forEach((name: string, i) => {
      if (!isClusterName(name)) throw new Error(`allowed_regions[${i}] "${name}" is not a cluster name`);
    });
    config.allowedRegions = allowed;
  }
  const fallback = raw.fallback_region;
  if (fallback !== undefined && fallback !== null) {
    if (typeof fallback !== "string" || !config.acceptsRegion(fallback)) {
      throw new Error("fallback_region must be a cluster name (and in allowed_regions when that is set)");
    }
    config.fallbackRegion = fallback;
  }
  return config;
}
