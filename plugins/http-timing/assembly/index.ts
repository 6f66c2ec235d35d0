// http-timing: on every finished request, records its duration in a per-direction histogram and counts its
// response class, with the direction taken from the listener (inbound/outbound sidecar listeners in
// Istio, `traffic_direction` in Envoy). Optionally logs one JSON line per request. Per-request work is two
// property reads and two metric updates: the metrics are defined once, in the root context. The log line
// (off by default) adds three property reads and one log call, and is not built when the host's log level
// would drop it.

import {
  HttpContext,
  JsonWriter,
  LogLevel,
  RootContext,
  getLogLevel,
  getPropertyInt,
  logError,
  logUtf8,
  registerRootContext,
  requestDurationNanos,
  requestHost,
  requestMethod,
  requestUrlPath,
  responseCode,
} from "@proxy-wasm-ts/sdk/assembly";
import { Direction, DirectionSource, TimingConfig, parseTimingConfig } from "./timing-config";
import { DIRECTION_NAMES, TimingMetrics } from "./timing-metrics";

export * from "@proxy-wasm-ts/sdk/assembly/exports";

// envoy.config.core.v3.TrafficDirection
const TRAFFIC_INBOUND: i64 = 1;
const TRAFFIC_OUTBOUND: i64 = 2;
// Allocated once: a literal path in getPropertyInt is a new array (and its buffer) on every request.
const LISTENER_DIRECTION: Array<string> = ["listener_direction"];
const XDS_LISTENER_DIRECTION: Array<string> = ["xds", "listener_direction"];

class HttpTimingRoot extends RootContext {
  config: TimingConfig = new TimingConfig();
  metrics: TimingMetrics | null = null;

  onConfigure(configuration: ArrayBuffer): bool {
    const config = parseTimingConfig(configuration);
    if (config.error.length > 0) {
      logError("http-timing: bad configuration: " + config.error);
      return false;
    }
    const metrics = this.metrics;
    if (metrics === null || config.metricStyle != this.config.metricStyle) this.metrics = new TimingMetrics(config.metricStyle);
    this.config = config;
    return true;
  }

  direction(): Direction {
    const source = this.config.direction;
    if (source == DirectionSource.Inbound) return Direction.Inbound;
    if (source == DirectionSource.Outbound) return Direction.Outbound;
    // Envoy's Wasm attribute is `listener_direction`; newer Envoys also offer `xds.listener_direction`.
    let listener = getPropertyInt(LISTENER_DIRECTION, 0);
    if (listener == 0) listener = getPropertyInt(XDS_LISTENER_DIRECTION, 0);
    if (listener == TRAFFIC_INBOUND) return Direction.Inbound;
    if (listener == TRAFFIC_OUTBOUND) return Direction.Outbound;
    return this.config.unspecifiedDirection;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new HttpTimingStream(contextId, this);
  }
}

class HttpTimingStream extends HttpContext {
  constructor(
    id: u32,
    readonly plugin: HttpTimingRoot,
  ) {
    super(id, plugin);
  }

  onLog(): void {
    const metrics = this.plugin.metrics;
    if (metrics === null) return;
    const direction = this.plugin.direction();
    const status = responseCode(); // -1 when no response was sent
    const nanos = requestDurationNanos();
    const durationMs: u64 = nanos > 0 ? <u64>(nanos / 1000000) : 0;
    metrics.record(direction, status, durationMs);
    if (this.plugin.config.logRequests && getLogLevel() <= LogLevel.Info)
      logUtf8(LogLevel.Info, this.logLine(direction, status, durationMs));
  }

  /** The line as UTF-8, as the host takes it (no string in between). */
  private logLine(direction: Direction, status: i64, durationMs: u64): ArrayBuffer {
    // The path without its query (queries carry tokens), truncated: a log line, not a copy of the request.
    let path = requestUrlPath();
    if (path !== null && path.length > this.plugin.config.pathMaxLength) path = path.substring(0, this.plugin.config.pathMaxLength);
    return new JsonWriter()
      .beginObject()
      .key("direction")
      .string(DIRECTION_NAMES[<i32>direction])
      .key("method")
      .stringOrNull(requestMethod())
      .key("path")
      .stringOrNull(path)
      .key("authority")
      .stringOrNull(requestHost())
      .key("status")
      .integer(status > 0 ? status : 0)
      .key("duration_ms")
      .integer(<i64>durationMs)
      .endObject()
      .toBytes();
  }
}

registerRootContext((contextId: u32): RootContext => new HttpTimingRoot(contextId));
