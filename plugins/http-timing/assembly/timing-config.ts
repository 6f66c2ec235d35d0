// The plugin configuration: traffic direction, metric naming style, and the optional per-request log line.

import { JsonKind, JsonValue, parseJsonBytes } from "@proxy-wasm-ts/sdk/assembly";

export enum Direction {
  Inbound = 0,
  Outbound = 1,
}

export enum DirectionSource {
  /** From the listener's traffic_direction (`listener_direction` attribute). */
  Listener = 0,
  Inbound = 1,
  Outbound = 2,
}

export enum MetricStyle {
  /** Seed 004's names: `wasm_http_inbound_duration_ms`, `wasm_http_inbound_responses_total_2xx`. */
  Seed = 0,
  /** Istio's tag encoding: `direction=.=inbound;.;response_class=.=2xx;.;wasm_http_responses_total`. */
  Istio = 1,
}

export class TimingConfig {
  direction: DirectionSource = DirectionSource.Listener;
  /** Used when the listener has no traffic_direction. */
  unspecifiedDirection: Direction = Direction.Inbound;
  metricStyle: MetricStyle = MetricStyle.Seed;
  logRequests: bool = false;
  pathMaxLength: i32 = 128;
  error: string = "";
}

const KNOWN_KEYS = ["direction", "unspecified_direction", "metric_style", "log_requests", "path_max_length"];

function rejected(config: TimingConfig, reason: string): TimingConfig {
  config.error = reason;
  return config;
}

// The string member `key` when it is one of `allowed`: its index; -1 when absent; -2 when invalid.
function readChoice(json: JsonValue, key: string, allowed: Array<string>): i32 {
  const v = json.get(key);
  if (v === null) return -1;
  if (v.kind != JsonKind.String) return -2;
  const at = allowed.indexOf(v.stringValue);
  return at >= 0 ? at : -2;
}

/** Reads the JSON configuration; empty means all defaults. */
export function parseTimingConfig(bytes: ArrayBuffer): TimingConfig {
  const config = new TimingConfig();
  if (bytes.byteLength == 0) return config;
  const json = parseJsonBytes(bytes);
  if (json === null || !json.isObject) return rejected(config, "configuration must be a JSON object");
  const keys = json.keys!;
  for (let i = 0; i < keys.length; i++) {
    if (!KNOWN_KEYS.includes(keys[i])) {
      return rejected(config, "unknown configuration key \"" + keys[i] + "\" (expected one of " + KNOWN_KEYS.join(", ") + ")");
    }
  }
  const direction = readChoice(json, "direction", ["listener", "inbound", "outbound"]);
  if (direction == -2) return rejected(config, "\"direction\" must be \"listener\", \"inbound\" or \"outbound\"");
  if (direction >= 0) config.direction = <DirectionSource>direction;
  const unspecified = readChoice(json, "unspecified_direction", ["inbound", "outbound"]);
  if (unspecified == -2) return rejected(config, "\"unspecified_direction\" must be \"inbound\" or \"outbound\"");
  if (unspecified >= 0) config.unspecifiedDirection = <Direction>unspecified;
  const style = readChoice(json, "metric_style", ["seed", "istio"]);
  if (style == -2) return rejected(config, "\"metric_style\" must be \"seed\" or \"istio\"");
  if (style >= 0) config.metricStyle = <MetricStyle>style;
  const log = json.get("log_requests");
  if (log !== null) {
    if (log.kind != JsonKind.Bool) return rejected(config, "\"log_requests\" must be true or false");
    config.logRequests = log.boolValue;
  }
  const pathMax = json.get("path_max_length");
  if (pathMax !== null) {
    const n = pathMax.kind == JsonKind.Number ? pathMax.numberValue : -1;
    if (n != Math.floor(n) || n < 1 || n > 4096) return rejected(config, "\"path_max_length\" must be an integer between 1 and 4096");
    config.pathMaxLength = <i32>n;
  }
  return config;
}
