// The plugin configuration: which header to set, its value, and on which side.

import { JsonKind, JsonValue, parseJsonBytes } from "@proxy-wasm-ts/sdk/assembly";

/** A parsed configuration, or the reason it was rejected (`error` non-empty). */
export class HeaderConfig {
  header: string = "x-training";
  value: string = "envoy-wasm";
  onRequest: bool = true;
  onResponse: bool = true;
  error: string = "";
}

const KNOWN_KEYS = ["header", "value", "request", "response"];

// RFC 9110 token characters: header names are tokens, and Envoy rejects anything else.
function isTokenChar(c: i32): bool {
  if (c >= 0x30 && c <= 0x39) return true; // 0-9
  if (c >= 0x61 && c <= 0x7a) return true; // a-z
  if (c >= 0x41 && c <= 0x5a) return true; // A-Z
  return "!#$%&'*+-.^_`|~".indexOf(String.fromCharCode(c)) >= 0;
}

function isValidHeaderValue(value: string): bool {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // CR, LF and NUL would split or truncate the header; other controls are invalid field content.
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return false;
  }
  return true;
}

function rejected(config: HeaderConfig, reason: string): HeaderConfig {
  config.error = reason;
  return config;
}

/** Reads the JSON configuration; empty means all defaults. */
export function parseHeaderConfig(bytes: ArrayBuffer): HeaderConfig {
  const config = new HeaderConfig();
  if (bytes.byteLength == 0) return config;
  const json = parseJsonBytes(bytes);
  if (json === null || !json.isObject) return rejected(config, "configuration must be a JSON object");
  const keys = json.keys!;
  for (let i = 0; i < keys.length; i++) {
    if (!KNOWN_KEYS.includes(keys[i])) {
      return rejected(config, "unknown configuration key \"" + keys[i] + "\" (expected one of " + KNOWN_KEYS.join(", ") + ")");
    }
  }
  const header = json.get("header");
  if (header !== null) {
    if (header.kind != JsonKind.String) return rejected(config, "\"header\" must be a string");
    // Kept as written: Envoy (and the host) lower-case header names themselves.
    const name = header.stringValue;
    if (name.length == 0) return rejected(config, "\"header\" must not be empty");
    for (let i = 0; i < name.length; i++) {
      if (!isTokenChar(name.charCodeAt(i))) {
        return rejected(config, "\"header\" " + header.stringValue + " is not a valid header name (token characters only, no pseudo-headers)");
      }
    }
    config.header = name;
  }
  const value = json.get("value");
  if (value !== null) {
    if (value.kind != JsonKind.String) return rejected(config, "\"value\" must be a string");
    if (!isValidHeaderValue(value.stringValue)) return rejected(config, "\"value\" must not contain control characters (CR, LF, NUL)");
    config.value = value.stringValue;
  }
  const request = readBool(json, "request", config.onRequest);
  const response = readBool(json, "response", config.onResponse);
  if (request < 0) return rejected(config, "\"request\" must be true or false");
  if (response < 0) return rejected(config, "\"response\" must be true or false");
  config.onRequest = request == 1;
  config.onResponse = response == 1;
  return config;
}

// 1 true, 0 false, -1 wrong type.
function readBool(json: JsonValue, key: string, fallback: bool): i32 {
  const v = json.get(key);
  if (v === null) return fallback ? 1 : 0;
  if (v.kind != JsonKind.Bool) return -1;
  return v.boolValue ? 1 : 0;
}
