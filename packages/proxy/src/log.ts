/**
 * The data plane's own log lines, shaped as Envoy prints them:
 * `[2024-12-15 06:24:57.672][25][warning][http] message`.
 */

/** Envoy's spdlog level names, by the host's LogLevel number. */
export const LEVEL_NAMES = ["trace", "debug", "info", "warning", "error", "critical"] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** The `[time][pid]` prefix of the latest millisecond formatted: log lines come in bursts. */
let prefixMs = Number.NaN;
let prefix = "";

/** One log line (with its newline) for `component` (Envoy's logger id: `http`, `wasm`, ...). */
export function formatLogLine(
  level: LevelName,
  component: string,
  message: string,
  now: Date | number = Date.now(),
): string {
  const ms = typeof now === "number" ? now : now.getTime();
  if (ms !== prefixMs) {
    const d = new Date(ms);
    prefix =
      `[${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}]` +
      `[${process.pid}]`;
    prefixMs = ms;
  }
  return `${prefix}[${level}][${component}] ${message}\n`;
}

/** Where the data plane's own log lines go (stderr by default). */
export type ProxyLog = (level: LevelName, component: string, message: string) => void;
