/**
 * Maps a JavaScript stack trace from the bundle back to the plugin's .ts sources with the bundle's source
 * map. Used in the guest (runtime errors) and by `pwts build` (errors while the bundle is evaluated).
 */
import { TraceMap } from "@jridgewell/trace-mapping";
/** A decoded source map, or its JSON text / object. */
export type SourceMapInput =
  | TraceMap
  | string
  | {
      version: number;
      sources: string[];
      mappings: string;
    };
/**
 * Rewrites every `<bundleName>:line:column` in `stack` to `source.ts:line:column`. QuickJS reports
 * 1-based lines and columns; source maps use 0-based columns. Positions the map does not cover stay.
 */
export declare function mapStackTrace(stack: string, map: SourceMapInput, bundleName: string): string;
/** The name the bundle is evaluated under, so stack traces say where to map. */
export declare const BUNDLE_NAME = "plugin.js";
/** The global the build stores the bundle's source map in (sources and mappings only). */
export declare const SOURCE_MAP_GLOBAL = "__pwts_sourcemap";
//# sourceMappingURL=stack-trace.d.ts.map
