/**
 * The Proxy-Wasm ABI v0.2.1 enumerations the guest API uses (numbers are the spec's; do not renumber),
 * and the raw hostcall binding: `__pwts_host(op, ...args)`, the glue's one host function.
 */
import { HostOp } from "./abi-codes.ts";

/** `proxy_status_t`. */
export const Status = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  Empty: 7,
  CasMismatch: 8,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;

/** `proxy_log_level_t`. */
export const LogLevel = { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4, Critical: 5 } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** `proxy_map_type_t`. */
export const MapType = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcInitialMetadata: 4,
  GrpcTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;
export type MapType = (typeof MapType)[keyof typeof MapType];

/** `proxy_buffer_type_t`. */
export const BufferType = {
  RequestBody: 0,
  ResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const;
export type BufferType = (typeof BufferType)[keyof typeof BufferType];

/** `proxy_stream_type_t`. */
export const StreamType = { Request: 0, Response: 1, Downstream: 2, Upstream: 3 } as const;

/** `proxy_action_t` as stream callbacks return it. */
export const Action = { Continue: 0, Pause: 1 } as const;

/** `proxy_metric_type_t`. */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;

declare const __pwts_host: (op: HostOp, ...args: unknown[]) => unknown;

/** The status names, for error messages. */
const STATUS_NAMES = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code, name]));

/** A hostcall answered with a status other than OK. */
export class HostCallError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
  ) {
    super(`${operation} failed: ${STATUS_NAMES.get(status) ?? "status"} (${status})`);
    this.name = "HostCallError";
  }
}

/**
 * Calls the host. The glue answers a number below zero for a non-OK status (its negation), else the
 * call's value (a number, string, ArrayBuffer or header list).
 */
export function hostcall(op: HostOp, ...args: unknown[]): unknown {
  return __pwts_host(op, ...args);
}

/** The status of a hostcall result (OK for any value that is not a negative number). */
export function statusOf(result: unknown): number {
  return typeof result === "number" && result < 0 ? -result : Status.Ok;
}

/** Throws HostCallError unless the result is OK; returns the result. */
export function expectOk<T>(operation: string, result: unknown): T {
  const status = statusOf(result);
  if (status !== Status.Ok) throw new HostCallError(operation, status);
  return result as T;
}

/** The second out-value of the last hostcall (buffer flags, shared-data CAS, status code). */
export function lastExtra(): number {
  return hostcall(HostOp.Extra) as number;
}
