/**
 * `pwts build` for a TypeScript plugin: bundle (esbuild) → engine (QuickJS + glue, linked once and
 * cached) → pre-initialize with the bundle evaluated (snapshot). The result is one Proxy-Wasm module.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { BUNDLE_NAME, mapStackTrace, SOURCE_MAP_GLOBAL } from "@proxy-wasm-ts/js/stack-trace";
import { UserError } from "../../user-error.ts";
import { bundlePlugin } from "./bundle.ts";
import { linkEngine } from "./engine-link.ts";
import { BundleEvaluationError, snapshotPlugin } from "./snapshot.ts";

/** Entry file of a TypeScript plugin, relative to its directory. */
export const TS_PLUGIN_ENTRY = "src/index.ts";

export interface TsBuildResult {
  wasm: Uint8Array;
  /** Size of the bundled JavaScript. */
  bundleSize: number;
  /** What the plugin logged while it was evaluated at build time. */
  logs: string[];
}

/** The @proxy-wasm-ts/js package the plugin depends on (else the one the CLI depends on). */
function jsPackageDir(pluginDir: string): string {
  for (const base of [join(pluginDir, "package.json"), import.meta.url]) {
    try {
      return dirname(createRequire(base).resolve("@proxy-wasm-ts/js/package.json"));
    } catch {
      // Not installed there: try the next place.
    }
  }
  throw new UserError(`${pluginDir}: cannot find @proxy-wasm-ts/js; run: npm install @proxy-wasm-ts/js`);
}

/** The guest package's URL/URLSearchParams globals: its source in a checkout, else its built file. */
function urlGlobals(packageDir: string): string {
  const source = join(packageDir, "src", "url-global.ts");
  return existsSync(source) ? source : join(packageDir, "dist", "url-global.js");
}

/** Builds the TypeScript plugin in `pluginDir`. */
export async function buildTsPlugin(pluginDir: string): Promise<TsBuildResult> {
  const packageDir = jsPackageDir(pluginDir);
  const bundle = await bundlePlugin(pluginDir, TS_PLUGIN_ENTRY, BUNDLE_NAME, [urlGlobals(packageDir)]);
  const engine = await linkEngine({ packageDir });
  try {
    // The guest maps runtime stack traces itself: it gets the map's sources and mappings (not the sources'
    // text), appended after the last mapped line so no position moves.
    const { sources, names, mappings } = JSON.parse(bundle.sourceMap) as {
      sources: string[];
      names: string[];
      mappings: string;
    };
    const map = JSON.stringify({ version: 3, sources, names, mappings });
    const code = `${bundle.code}\nglobalThis.${SOURCE_MAP_GLOBAL} = ${JSON.stringify(map)};\n`;
    const { wasm, logs } = await snapshotPlugin(engine, code, BUNDLE_NAME);
    return { wasm, bundleSize: bundle.code.length, logs };
  } catch (error) {
    if (error instanceof BundleEvaluationError) {
      throw new UserError(
        `the plugin failed while it was evaluated at build time:\n${mapStackTrace(error.message, bundle.sourceMap, BUNDLE_NAME)}`,
      );
    }
    throw error;
  }
}
