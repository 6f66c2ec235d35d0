/** Logging through `proxy_log`, and a `console` that writes there (QuickJS-NG has none of its own). */

import { hostcall, LogLevel } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";

function format(args: unknown[]): string {
  // The usual call: one string (a template literal), logged as it is.
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return args
    .map((arg) => {
      if (typeof arg === "string") return arg;
      if (arg instanceof Error) return arg.stack ? `${arg.name}: ${arg.message}\n${arg.stack}` : String(arg);
      try {
        const json = JSON.stringify(arg, (_key, value) => (typeof value === "bigint" ? `${value}n` : value));
        return json === undefined ? String(arg) : json;
      } catch {
        return String(arg);
      }
    })
    .join(" ");
}

/** Writes one log line at `level`. */
export function logAt(level: LogLevel, ...args: unknown[]): void {
  write(level, args);
}

/** `logAt` for an argument list already gathered (no second spread per line). */
function write(level: LogLevel, args: unknown[]): void {
  hostcall(HostOp.Log, level, format(args));
}

/** Plugin logging: `log.info("...")` is `proxy_log` at INFO, and so on. */
export const log = {
  trace: (...args: unknown[]) => write(LogLevel.Trace, args),
  debug: (...args: unknown[]) => write(LogLevel.Debug, args),
  info: (...args: unknown[]) => write(LogLevel.Info, args),
  warn: (...args: unknown[]) => write(LogLevel.Warn, args),
  error: (...args: unknown[]) => write(LogLevel.Error, args),
  critical: (...args: unknown[]) => write(LogLevel.Critical, args),
  /** The host's current log level (messages below it are dropped). */
  level: (): LogLevel => hostcall(HostOp.GetLogLevel) as LogLevel,
};

/** Installs `console` (log/info → INFO, debug → DEBUG, warn → WARN, error → ERROR). */
export function installConsole(): void {
  const scope = globalThis as Record<string, unknown>;
  scope.console ??= {
    log: log.info,
    info: log.info,
    debug: log.debug,
    trace: log.trace,
    warn: log.warn,
    error: log.error,
  };
}
