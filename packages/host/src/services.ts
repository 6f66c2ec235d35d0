/**
 * The outside world as the host sees it: small interfaces the embedder provides (the local data plane gives
 * real ones, the test harness controllable ones), plus the real-time defaults.
 */
import type { GrpcCallout, HttpCallout } from "./callouts.ts";
import type { LogEntry } from "./types.ts";

/** Wall and monotonic time, in nanoseconds. */
export interface Clock {
  /** Nanoseconds since the Unix epoch (`proxy_get_current_time_nanoseconds`, WASI REALTIME). */
  wallNanoseconds(): bigint;
  /** Nanoseconds from an arbitrary origin, never going backwards (WASI MONOTONIC). */
  monotonicNanoseconds(): bigint;
}

/** One-shot timers; the host builds tick periods and callout timeouts on them. */
export interface Timers {
  setTimer(delayMs: number, fire: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}
export type TimerHandle = unknown;

/**
 * Where `proxy_http_call` and `proxy_grpc_*` go. The host asks whether a cluster exists (an unknown one is
 * BAD_ARGUMENT, as in Envoy), then hands over a callout object; answer it later with its methods.
 */
export interface Upstream {
  hasCluster(name: string): boolean;
  /**
   * Optional: whether a call to an existing `cluster` can start now. False makes `proxy_http_call`,
   * `proxy_grpc_call` and `proxy_grpc_stream` answer INTERNAL_FAILURE with nothing dispatched, as Envoy does
   * when its async client cannot start the call (context.cc Context::httpCall / grpcCall / grpcStream: `send`
   * / `sendRaw` / `startRaw` returned null, e.g. the call failed inline for want of a healthy host).
   */
  canStart?(cluster: string, kind: "http" | "grpc"): boolean;
  httpCall(callout: HttpCallout): void;
  grpcCall(callout: GrpcCallout): void;
}

/** Receives every log line plugins write. */
export type LogSink = (entry: LogEntry) => void;

/** Receives trace lines (`[vm->host] ...`) when trace mode is on. */
export type TraceSink = (line: string) => void;

/** Real time from `process.hrtime` / `Date.now`. */
export const systemClock: Clock = {
  wallNanoseconds: () => BigInt(Date.now()) * 1_000_000n,
  monotonicNanoseconds: () => process.hrtime.bigint(),
};

/** Node timers, unref'd so a plugin's tick never keeps the process alive. */
export const systemTimers: Timers = {
  setTimer(delayMs, fire) {
    const t = setTimeout(fire, delayMs);
    t.unref();
    return t;
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** An upstream with no clusters: every callout is BAD_ARGUMENT. */
export const noUpstream: Upstream = {
  hasCluster: () => false,
  httpCall: () => {},
  grpcCall: () => {},
};
