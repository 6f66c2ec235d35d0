// The plugin configuration: traffic direction, metric naming style, and the optional per-request log line.

import { JsonKind, JsonValue } from "@proxy-wasm-ts/sdk/assembly";
import { boolMember, integerMember, readConfigObject } from "../../shared-assembly/plugin-config-json";

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
  const read = readConfigObject(bytes, KNOWN_KEYS);
  if (read.error.length > 0) return rejected(config, read.error);
  const json = read.json;
  if (json === null) return config;
  const direction = readChoice(json, "direction", ["listener", "inbound", "outbound"]);
  if (direction == -2) return rejected(config, "\"direction\" must be \"listener\", \"inbound\" or \"outbound\"");
  if (direction >= 0) config.direction = <DirectionSource>direction;
  const unspecified = readChoice(json, "unspecified_direction", ["inbound", "outbound"]);
  if (unspecified == -2) return rejected(config, "\"unspecified_direction\" must be \"inbound\" or \"outbound\"");
  if (unspecified >= 0) config.unspecifiedDirection = <Direction>unspecified;
  const style = readChoice(json, "metric_style", ["seed", "istio"]);
  if (style == -2) return rejected(config, "\"metric_style\" must be \"seed\" or \"istio\"");
  if (style >= 0) config.metricStyle = <MetricStyle>style;
  const logRequests = boolMember(json, "log_requests", config.logRequests);
  if (logRequests < 0) return rejected(config, "\"log_requests\" must be true or false");
  config.logRequests = logRequests == 1;
  const pathMax = integerMember(json, "path_max_length", 1, 4096, <f64>config.pathMaxLength);
  if (isNaN(pathMax)) return rejected(config, "\"path_max_length\" must be an integer between 1 and 4096");
  config.pathMaxLength = <i32>pathMax;
  return config;
}
