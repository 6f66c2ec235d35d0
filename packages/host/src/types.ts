/**
 * The Proxy-Wasm ABI v0.2.1 enumerations and the small value types the host exchanges with its embedder.
 * Numeric values are the spec's (`proxy_status_t`, `proxy_action_t`, ...); do not renumber.
 */

/** `proxy_status_t`: what every `proxy_*` hostcall returns. */
export const Status = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  InternalFailure: 10,
  /** Not in the spec's list but used by Envoy for a failed callout (`get_status` after a reset/timeout). */
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** `proxy_action_t` as the embedder sees it: forward (Continue) or hold (Pause). */
export const Action = { Continue: 0, Pause: 1 } as const;
export type Action = (typeof Action)[keyof typeof Action];

/** `proxy_log_level_t`. */
export const LogLevel = { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4, Critical: 5 } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];
/** Lower-case names of log levels, indexed by level. */
export const LOG_LEVEL_NAMES = ["trace", "debug", "info", "warn", "error", "critical"] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

/** `proxy_buffer_type_t`. */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcCallMessage: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  ForeignFunctionArguments: 8,
} as const;
export type BufferType = (typeof BufferType)[keyof typeof BufferType];
export const MAX_BUFFER_TYPE = 8;

/** `proxy_map_type_t`. */
export const MapType = {
  HttpRequestHeaders: 0,
  HttpRequestTrailers: 1,
  HttpResponseHeaders: 2,
  HttpResponseTrailers: 3,
  GrpcCallInitialMetadata: 4,
  GrpcCallTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;
export type MapType = (typeof MapType)[keyof typeof MapType];
export const MAX_MAP_TYPE = 7;

/** `proxy_peer_type_t`. */
export const PeerType = { Unknown: 0, Local: 1, Remote: 2 } as const;
export type PeerType = (typeof PeerType)[keyof typeof PeerType];

/** `proxy_stream_type_t`. */
export const StreamType = { HttpRequest: 0, HttpResponse: 1, Downstream: 2, Upstream: 3 } as const;
export type StreamType = (typeof StreamType)[keyof typeof StreamType];
export const MAX_STREAM_TYPE = 3;

/** `proxy_metric_type_t`. */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** `wasi_errno_t` values the host returns. */
export const WasiErrno = { Success: 0, Badf: 8, Fault: 21, Inval: 28, Nosys: 52, Notsup: 58 } as const;

/** Envoy's `failure_policy` for a plugin whose VM failed (trapped). */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/** A header, trailer or gRPC metadata entry: name and value as raw bytes. */
export type HeaderPair = [name: Uint8Array, value: Uint8Array];

/** Header input accepted from embedders and tests: strings are UTF-8 encoded. */
export type HeaderInput = ReadonlyArray<readonly [string | Uint8Array, string | Uint8Array]>;

/** Bytes input accepted from embedders and tests: strings are UTF-8 encoded. */
export type BytesInput = string | Uint8Array;

/** A local reply a plugin sent with `proxy_send_local_response` (or the host sent for FAIL_CLOSED). */
export interface LocalReply {
  statusCode: number;
  /** `status_code_details` (Envoy's response-code details, e.g. `wasm_fail_stream`). */
  details: string;
  body: Uint8Array;
  headers: HeaderPair[];
  /** gRPC status, or null when the plugin passed -1 / none. */
  grpcStatus: number | null;
}

/** One log line a plugin wrote (with `proxy_log` or WASI `fd_write`). */
export interface LogEntry {
  level: LogLevel;
  message: string;
  pluginName: string;
  rootId: string;
  vmId: string;
}

/** The abi versions a module can advertise, newest first. */
export type AbiVersion = "0.2.1" | "0.2.0" | "0.1.0";
