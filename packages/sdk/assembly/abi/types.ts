// Enumerations of Proxy-Wasm ABI v0.2.1 ("Types" section of the spec).

/** Result of every hostcall (`proxy_status_t`). The SDK hands these back instead of trapping. */
export enum Status {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  InternalFailure = 10,
  Unimplemented = 12,
}

/** Log levels (`proxy_log_level_t`). */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}

/**
 * What a stream callback tells the host (`proxy_action_t`). `Pause` from a headers callback stops
 * iteration until `resume*()`; from a body callback it buffers and calls again with the accumulated
 * size (the way to read a whole body: return `Pause` until `endOfStream`).
 */
export enum Action {
  Continue = 0,
  Pause = 1,
}

/** Buffers readable with `Buffer` (`proxy_buffer_type_t`). */
export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  ForeignFunctionArguments = 8,
}

/** Header maps (`proxy_map_type_t`). */
export enum MapType {
  HttpRequestHeaders = 0,
  HttpRequestTrailers = 1,
  HttpResponseHeaders = 2,
  HttpResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

/** Which side closed a TCP connection (`proxy_peer_type_t`). */
export enum PeerType {
  Unknown = 0,
  Local = 1,
  Remote = 2,
}

/** Stream direction for continue/close (`proxy_stream_type_t`). */
export enum StreamType {
  HttpRequest = 0,
  HttpResponse = 1,
  Downstream = 2,
  Upstream = 3,
}

/** Metric kinds (`proxy_metric_type_t`). */
export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** gRPC status codes, for `sendLocalResponse(..., grpcStatus)` and `onGrpcClose`. */
export enum GrpcStatus {
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

/** Marks "no gRPC status" in `proxy_send_local_response` (Envoy reads -1 as absent). */
export const NO_GRPC_STATUS: i32 = -1;
