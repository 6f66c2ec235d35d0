/**
 * `pwts build`: compile a plugin directory with its SDK and check the module.
 *
 * Layout (the output path is what `pwts push`, the local proxy and plugins' envoy.yaml use):
 *   <dir>/assembly/index.ts   entry file of an AssemblyScript plugin
 *   <dir>/src/index.ts        entry file of a TypeScript plugin (@proxy-wasm-ts/js)
 *   <dir>/build/plugin.wasm   output
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { hasErrorCode } from "@proxy-wasm-ts/errors";
import { type OptimizeGoal, PLUGIN_ENTRY, PLUGIN_OUTPUT } from "@proxy-wasm-ts/sdk";
import { UserError } from "../user-error.ts";
import { checkModule, type ModuleCheck } from "./module-check.ts";
import { loadSdk } from "./sdk-location.ts";
import { buildTsPlugin, TS_PLUGIN_ENTRY } from "./ts-plugin/build-ts-plugin.ts";

export { PLUGIN_ENTRY, PLUGIN_OUTPUT, TS_PLUGIN_ENTRY };

/** The language a plugin directory is written in, from its entry file. */
export type PluginLanguage = "assemblyscript" | "typescript";

export interface BuildOptions {
  /** Output file (default `<dir>/build/plugin.wasm`). */
  outFile?: string;
  /** Debug build: names kept, no optimization. */
  debug?: boolean;
  /**
   * AssemblyScript plugins: `speed` (the SDK's default) or `size`. A TypeScript plugin rejects it rather
   * than ignore it: its engine (QuickJS) comes prebuilt, and the build only snapshots the bundle into it.
   */
  optimize?: OptimizeGoal;
}

export interface BuildResult extends ModuleCheck {
  outFile: string;
  /** Size of the written module in bytes. */
  size: number;
  /** Size straight out of asc, before any size pass (TypeScript: the bundled JavaScript). */
  compiledSize: number;
  language: PluginLanguage;
  /** What a TypeScript plugin logged while it was evaluated at build time. */
  logs: string[];
}

const isFile = async (path: string) => (await stat(path).catch(() => null))?.isFile() ?? false;

/** Which kind of plugin `pluginDir` holds, or null when it has neither entry file. */
export async function pluginLanguage(pluginDir: string): Promise<PluginLanguage | null> {
  if (await isFile(join(pluginDir, PLUGIN_ENTRY))) return "assemblyscript";
  if (await isFile(join(pluginDir, TS_PLUGIN_ENTRY))) return "typescript";
  return null;
}

async function compile(
  pluginDir: string,
  language: PluginLanguage,
  options: BuildOptions,
): Promise<{ wasm: Uint8Array; compiledSize: number; logs: string[] }> {
  if (language === "typescript") {
    if (options.optimize !== undefined) {
      throw new UserError(
        `--optimize applies to AssemblyScript plugins; ${pluginDir} is a TypeScript plugin: its engine ` +
          "(QuickJS) comes prebuilt, and its build only bundles your code and snapshots it into that engine",
      );
    }
    const built = await buildTsPlugin(pluginDir);
    return { wasm: built.wasm, compiledSize: built.bundleSize, logs: built.logs };
  }
  const sdk = await loadSdk(pluginDir);
  try {
    const compiled = await sdk.compilePlugin({
      baseDir: pluginDir,
      entry: PLUGIN_ENTRY,
      debug: options.debug,
      optimize: options.optimize,
    });
    return { ...compiled, logs: [] };
  } catch (err) {
    // Compile errors are the user's: show asc's diagnostics without a stack trace.
    if (hasErrorCode(err) && err.code === "PWTS_ERR_COMPILE") throw new UserError(err.message);
    throw err;
  }
}

/** Builds the plugin in `dir`; throws UserError on compile errors or imports Envoy lacks. */
export async function buildPlugin(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const pluginDir = resolve(dir);
  const language = await pluginLanguage(pluginDir);
  if (language === null) {
    throw new UserError(
      `${dir} is not a plugin directory: expected the entry file ${PLUGIN_ENTRY} (AssemblyScript) or ` +
        `${TS_PLUGIN_ENTRY} (TypeScript) in it`,
    );
  }
  const compiled = await compile(pluginDir, language, options);
  const check = checkModule(compiled.wasm);
  if (check.missingExports.length > 0) {
    throw new UserError(
      `${PLUGIN_ENTRY} does not export ${check.missingExports.join(", ")}: add\n` +
        `  export * from "@proxy-wasm-ts/sdk/assembly/exports";\nto it`,
    );
  }
  if (check.unsupported.length > 0) {
    throw new UserError(
      `the module imports what Envoy does not provide:\n${check.unsupported.map((u) => `  ${u}`).join("\n")}`,
    );
  }
  const outFile = resolve(pluginDir, options.outFile ?? PLUGIN_OUTPUT);
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, compiled.wasm);
  return {
    ...check,
    outFile,
    size: compiled.wasm.byteLength,
    compiledSize: compiled.compiledSize,
    language,
    logs: compiled.logs,
  };
}
