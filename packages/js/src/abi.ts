/**
 * The Proxy-Wasm ABI v0.2.1 enumerations the guest API uses (the host's tables, re-exported),
 * and the raw hostcall binding: `__pwts_host(op, ...args)`, the glue's one host function.
 */

// The ABI's enumerations are the host's own tables (one copy for the host, the harness and this guest API);
// the bundle takes only these constants from that module.
import {
  Action,
  BufferType,
  LogLevel,
  MapType,
  MetricType,
  Status,
  StreamType,
} from "@proxy-wasm-ts/host/types";
import { HostOp } from "./abi-codes.ts";

export { Action, BufferType, LogLevel, MapType, MetricType, Status, StreamType };

type HostFunction = (op: HostOp, ...args: unknown[]) => unknown;

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
 * call's value (a number, string, ArrayBuffer or header list). It is the glue's host function itself
 * (defined before the bundle runs): a wrapper taking `...args` cost QuickJS an array and a spread per
 * hostcall. Outside the engine (a plain Node import) it is undefined.
 */
export const hostcall = (globalThis as { __pwts_host?: HostFunction }).__pwts_host as HostFunction;

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
