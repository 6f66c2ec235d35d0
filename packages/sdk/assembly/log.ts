// Logging through the host (Envoy prints these as "wasm log <plugin>: <message>").

import { proxy_get_log_level, proxy_log } from "./abi/imports";
import { LogLevel, Status } from "./abi/types";
import { toBytes } from "./bytes";
import { RETURN_SIZE, setLastStatus } from "./memory";

/** Logs `message` at `level`. */
export function log(level: LogLevel, message: string): Status {
  const bytes = toBytes(message);
  return setLastStatus(proxy_log(level, changetype<usize>(bytes), bytes.byteLength));
}

/**
 * Logs a message that is already UTF-8 (e.g. `JsonWriter.toBytes()`), without the round trip through a
 * string that `log` would take: no decode, no re-encode.
 */
export function logUtf8(level: LogLevel, message: ArrayBuffer): Status {
  return setLastStatus(proxy_log(level, changetype<usize>(message), message.byteLength));
}

/** Logs at trace level. */
export function logTrace(message: string): void {
  log(LogLevel.Trace, message);
}
/** Logs at debug level. */
export function logDebug(message: string): void {
  log(LogLevel.Debug, message);
}
/** Logs at info level. */
export function logInfo(message: string): void {
  log(LogLevel.Info, message);
}
/** Logs at warn level. */
export function logWarn(message: string): void {
  log(LogLevel.Warn, message);
}
/** Logs at error level. */
export function logError(message: string): void {
  log(LogLevel.Error, message);
}
/** Logs at critical level. */
export function logCritical(message: string): void {
  log(LogLevel.Critical, message);
}

/** The host's current log level (messages below it are dropped); Trace when the host cannot say. */
export function getLogLevel(): LogLevel {
  store<u32>(RETURN_SIZE, 0);
  const s = setLastStatus(proxy_get_log_level(RETURN_SIZE));
  return s == Status.Ok ? <LogLevel>load<u32>(RETURN_SIZE) : LogLevel.Trace;
}
