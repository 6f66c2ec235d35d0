/**
 * Maps a JavaScript stack trace from the bundle back to the plugin's .ts sources with the bundle's source
 * map. Used in the guest (runtime errors) and by `pwts build` (errors while the bundle is evaluated).
 */
import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";

/** A decoded source map, or its JSON text / object. */
export type SourceMapInput = TraceMap | string | { version: number; sources: string[]; mappings: string };

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Rewrites every `<bundleName>:line:column` in `stack` to `source.ts:line:column`. QuickJS reports
 * 1-based lines and columns; source maps use 0-based columns. Positions the map does not cover stay.
 */
export function mapStackTrace(stack: string, map: SourceMapInput, bundleName: string): string {
  const trace = map instanceof TraceMap ? map : new TraceMap(map as string);
  const location = new RegExp(`${escapeRegExp(bundleName)}:(\\d+)(?::(\\d+))?`, "g");
  return stack.replace(location, (whole, line: string, column: string | undefined) => {
    const position = originalPositionFor(trace, {
      line: Number(line),
      column: Math.max(0, Number(column ?? 1) - 1),
    });
    if (position.source === null || position.line === null) return whole;
    return `${position.source}:${position.line}:${(position.column ?? 0) + 1}`;
  });
}

/** The name the bundle is evaluated under, so stack traces say where to map. */
export const BUNDLE_NAME = "plugin.js";
/** The global the build stores the bundle's source map in (sources and mappings only). */
export const SOURCE_MAP_GLOBAL = "__pwts_sourcemap";
