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

/** One log line (with its newline) for `component` (Envoy's logger id: `http`, `wasm`, ...). */
export function formatLogLine(
  level: LevelName,
  component: string,
  message: string,
  now = new Date(),
): string {
  const ts =
    `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ` +
    `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${pad(now.getMilliseconds(), 3)}`;
  return `[${ts}][${process.pid}][${level}][${component}] ${message}\n`;
}

/** Where the data plane's own log lines go (stderr by default). */
export type ProxyLog = (level: LevelName, component: string, message: string) => void;
