// The plugin configuration: secret names, replacement text, and the largest body it will buffer.

import { JsonKind } from "@proxy-wasm-ts/sdk/assembly";
import { integerMember, readConfigObject } from "../../shared-assembly/plugin-config-json";

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
  const read = readConfigObject(bytes, KNOWN_KEYS);
  if (read.error.length > 0) return rejected(config, read.error);
  const json = read.json;
  if (json === null) return config;
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
  const maxBodyBytes = integerMember(json, "max_body_bytes", 1, 16777216, <f64>config.maxBodyBytes);
  if (isNaN(maxBodyBytes)) return rejected(config, "\"max_body_bytes\" must be an integer between 1 and 16777216");
  config.maxBodyBytes = <u32>maxBodyBytes;
  return config;
}
