// The plugin configuration: which header to set, its value, and on which side.

import { JsonKind } from "@proxy-wasm-ts/sdk/assembly";
import { boolMember, readConfigObject } from "../../shared-assembly/plugin-config-json";

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
  const read = readConfigObject(bytes, KNOWN_KEYS);
  if (read.error.length > 0) return rejected(config, read.error);
  const json = read.json;
  if (json === null) return config;
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
  const request = boolMember(json, "request", config.onRequest);
  const response = boolMember(json, "response", config.onResponse);
  if (request < 0) return rejected(config, "\"request\" must be true or false");
  if (response < 0) return rejected(config, "\"response\" must be true or false");
  config.onRequest = request == 1;
  config.onResponse = response == 1;
  return config;
}
