// The plugin configuration: secret names, replacement text, and the largest body it will buffer.

import { JsonKind, parseJsonBytes } from "@proxy-wasm-ts/sdk/assembly";

export class RedactionConfig {
  /** Secret names as UTF-8 bytes: `SECRET` redacts `SECRET=value` and `"SECRET": "value"`. */
  secrets: Array<Uint8Array> = [Uint8Array.wrap(String.UTF8.encode("SECRET"))];
  replacement: Uint8Array = Uint8Array.wrap(String.UTF8.encode("[REDACTED]"));
  /** Bodies larger than this pass through unchanged (default 256 KiB, well under Envoy's 1 MiB buffer limit). */
  maxBodyBytes: u32 = 262144;
  error: string = "";
}

const KNOWN_KEYS = ["secrets", "replacement", "max_body_bytes"];

function rejected(config: RedactionConfig, reason: string): RedactionConfig {
  config.error = reason;
  return config;
}

/** Reads the JSON configuration; empty means all defaults. */
export function parseRedactionConfig(bytes: ArrayBuffer): RedactionConfig {
  const config = new RedactionConfig();
  if (bytes.byteLength == 0) return config;
  const json = parseJsonBytes(bytes);
  if (json === null || !json.isObject) return rejected(config, "configuration must be a JSON object");
  const keys = json.keys!;
  for (let i = 0; i < keys.length; i++) {
    if (!KNOWN_KEYS.includes(keys[i])) {
      return rejected(config, "unknown configuration key \"" + keys[i] + "\" (expected one of " + KNOWN_KEYS.join(", ") + ")");
    }
  }
  const secrets = json.get("secrets");
  if (secrets !== null) {
    if (secrets.kind != JsonKind.Array || secrets.length == 0) {
      return rejected(config, "\"secrets\" must be a non-empty array of secret names");
    }
    const names = new Array<Uint8Array>();
    for (let i = 0; i < secrets.length; i++) {
      const item = secrets.at(i)!;
      if (item.kind != JsonKind.String || item.stringValue.length == 0) {
        return rejected(config, "\"secrets\" must be a non-empty array of secret names");
      }
      // '=' or '"' inside a name could never match the forms the plugin looks for.
      if (item.stringValue.includes("=") || item.stringValue.includes("\"")) {
        return rejected(config, "secret name " + item.stringValue + " must not contain '=' or '\"'");
      }
      names.push(Uint8Array.wrap(String.UTF8.encode(item.stringValue)));
    }
    config.secrets = names;
  }
  const replacement = json.get("replacement");
  if (replacement !== null) {
    if (replacement.kind != JsonKind.String) return rejected(config, "\"replacement\" must be a string");
    config.replacement = Uint8Array.wrap(String.UTF8.encode(replacement.stringValue));
  }
  const max = json.get("max_body_bytes");
  if (max !== null) {
    const n = max.kind == JsonKind.Number ? max.numberValue : -1;
    if (n != Math.floor(n) || n < 1 || n > 16777216) {
      return rejected(config, "\"max_body_bytes\" must be an integer between 1 and 16777216");
    }
    config.maxBodyBytes = <u32>n;
  }
  return config;
}
