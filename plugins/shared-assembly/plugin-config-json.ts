// Reading a plugin's JSON configuration the way the training plugins do: empty means all defaults; anything
// else must be a JSON object of keys the plugin knows. Members of the wrong type or out of range are
// reported (each plugin words its own reason), never silently replaced by a default.

import { JsonKind, JsonValue, parseJsonBytes } from "@proxy-wasm-ts/sdk/assembly";

/** The configuration's JSON object (null when the configuration is empty), or why it was rejected. */
export class ConfigObject {
  constructor(
    readonly json: JsonValue | null,
    /** Non-empty when the configuration is rejected. */
    readonly error: string,
  ) {}
}

/** Parses `bytes` as a JSON object whose keys are all in `knownKeys`; empty bytes give a null object. */
export function readConfigObject(bytes: ArrayBuffer, knownKeys: Array<string>): ConfigObject {
  if (bytes.byteLength == 0) return new ConfigObject(null, "");
  const json = parseJsonBytes(bytes);
  if (json === null || !json.isObject) return new ConfigObject(null, "configuration must be a JSON object");
  const keys = json.keys!;
  for (let i = 0; i < keys.length; i++) {
    if (!knownKeys.includes(keys[i])) {
      return new ConfigObject(null, "unknown configuration key \"" + keys[i] + "\" (expected one of " + knownKeys.join(", ") + ")");
    }
  }
  return new ConfigObject(json, "");
}

/** Integer member `key` between `min` and `max`: `fallback` when absent, NaN when it is not such an integer. */
export function integerMember(json: JsonValue, key: string, min: f64, max: f64, fallback: f64): f64 {
  const member = json.get(key);
  if (member === null) return fallback;
  if (member.kind != JsonKind.Number) return NaN;
  const n = member.numberValue;
  return n == Math.floor(n) && n >= min && n <= max ? n : NaN;
}

/** Bool member `key`: 1 true, 0 false (`fallback` when absent), -1 when it is not a bool. */
export function boolMember(json: JsonValue, key: string, fallback: bool): i32 {
  const member = json.get(key);
  if (member === null) return fallback ? 1 : 0;
  if (member.kind != JsonKind.Bool) return -1;
  return member.boolValue ? 1 : 0;
}
