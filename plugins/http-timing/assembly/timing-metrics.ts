// The plugin's metrics, defined once per plugin: a duration histogram and six response-class counters
// per direction. The seed's names need no Envoy configuration; the Istio style carries the direction and
// class as tags that `sidecar.istio.io/extraStatTags: direction,response_class` (or matching
// `stats_tags` in plain Envoy) turn into Prometheus labels.

import { Counter, Histogram } from "@proxy-wasm-ts/sdk/assembly";
import { Direction, MetricStyle } from "./timing-config";

export const DIRECTION_NAMES = ["inbound", "outbound"];
/** Response classes; "other" is anything else (no response at all, 1xx, nonsense). */
export const RESPONSE_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/** Index into RESPONSE_CLASSES for an HTTP status (0 or negative when there was no response). */
export function responseClass(status: i64): i32 {
  if (status >= 100 && status <= 599) return <i32>(status / 100) - 1;
  return 5;
}

function durationName(style: MetricStyle, direction: string): string {
  if (style == MetricStyle.Istio) return "direction=.=" + direction + ";.;wasm_http_duration_ms";
  return "wasm_http_" + direction + "_duration_ms";
}

function responsesName(style: MetricStyle, direction: string, responseClassName: string): string {
  if (style == MetricStyle.Istio) {
    return "direction=.=" + direction + ";.;response_class=.=" + responseClassName + ";.;wasm_http_responses_total";
  }
  return "wasm_http_" + direction + "_responses_total_" + responseClassName;
}

export class TimingMetrics {
  durations: Array<Histogram> = new Array<Histogram>();
  /** responses[direction * RESPONSE_CLASSES.length + class] */
  responses: Array<Counter> = new Array<Counter>();

  constructor(style: MetricStyle) {
    for (let d = 0; d < DIRECTION_NAMES.length; d++) {
      const direction = DIRECTION_NAMES[d];
      this.durations.push(new Histogram(durationName(style, direction)));
      for (let c = 0; c < RESPONSE_CLASSES.length; c++) {
        this.responses.push(new Counter(responsesName(style, direction, RESPONSE_CLASSES[c])));
      }
    }
  }

  record(direction: Direction, status: i64, durationMs: u64): void {
    this.durations[<i32>direction].record(durationMs);
    this.responses[<i32>direction * RESPONSE_CLASSES.length + responseClass(status)].increment();
  }
}
