// The plugin configuration: where the metadata callout goes, how long it may take, and what to copy.

import { JsonKind, JsonValue } from "@proxy-wasm-ts/sdk/assembly";
import { integerMember, readConfigObject } from "../../shared-assembly/plugin-config-json";

export class EnrichmentConfig {
  /** Envoy cluster of the metadata service. */
  cluster: string = "metadata";
  /** `:authority` of the callout. */
  authority: string = "metadata";
  /** `:path` of the callout. */
  path: string = "/headers";
  timeoutMs: u32 = 1000;
  /** Request header that receives the answer. */
  header: string = "x-meta";
  /**
   * Dotted path of a string (or integer) field in the JSON answer, e.g. "name" or "headers.Host". Empty:
   * the header is "1" whenever the answer has a body, as in the seed.
   */
  field: string = "name";
  error: string = "";
}

const KNOWN_KEYS = ["cluster", "authority", "path", "timeout_ms", "header", "field"];

function rejected(config: EnrichmentConfig, reason: string): EnrichmentConfig {
  config.error = reason;
  return config;
}

function isHeaderNameChar(c: i32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e;
}

// The string member `key`: its value, null when absent, or "\0" when present with the wrong type.
function readString(json: JsonValue, key: string): string | null {
  const v = json.get(key);
  if (v === null) return null;
  return v.kind == JsonKind.String ? v.stringValue : "\0";
}

/** Reads the JSON configuration; empty means all defaults. */
export function parseEnrichmentConfig(bytes: ArrayBuffer): EnrichmentConfig {
  const config = new EnrichmentConfig();
  const read = readConfigObject(bytes, KNOWN_KEYS);
  if (read.error.length > 0) return rejected(config, read.error);
  const json = read.json;
  if (json === null) return config;
  const cluster = readString(json, "cluster");
  if (cluster !== null) {
    if (cluster == "\0" || cluster.length == 0) return rejected(config, "\"cluster\" must be a non-empty string (an Envoy cluster name)");
    config.cluster = cluster;
  }
  const authority = readString(json, "authority");
  if (authority !== null) {
    if (authority == "\0" || authority.length == 0) return rejected(config, "\"authority\" must be a non-empty string");
    config.authority = authority;
  }
  const path = readString(json, "path");
  if (path !== null) {
    if (path == "\0" || !path.startsWith("/")) return rejected(config, "\"path\" must be a string starting with /");
    config.path = path;
  }
  const header = readString(json, "header");
  if (header !== null) {
    const name = header == "\0" ? "" : header;
    let valid = name.length > 0;
    for (let i = 0; i < name.length && valid; i++) valid = isHeaderNameChar(name.charCodeAt(i));
    if (!valid) return rejected(config, "\"header\" must be a header name (letters, digits, - _ .)");
    config.header = name;
  }
  const field = readString(json, "field");
  if (field !== null) {
    if (field == "\0") return rejected(config, "\"field\" must be a string (a dotted JSON path, or empty)");
    config.field = field;
  }
  const timeoutMs = integerMember(json, "timeout_ms", 1, 60000, <f64>config.timeoutMs);
  if (isNaN(timeoutMs)) return rejected(config, "\"timeout_ms\" must be an integer between 1 and 60000");
  config.timeoutMs = <u32>timeoutMs;
  return config;
}
