/**
 * `pwts build`: compile a plugin directory to `build/plugin.wasm` and check it.
 *
 * Layout (the output path is what `pwts push`, the local proxy and plugins' envoy.yaml use):
 *   <dir>/assembly/index.ts   entry file
 *   <dir>/build/plugin.wasm   output
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UserError } from "../user-error.ts";
import { checkModule, type ModuleCheck } from "./module-check.ts";
import { loadSdk } from "./sdk-location.ts";

/** Entry file of a plugin, relative to its directory. */
export const PLUGIN_ENTRY = "assembly/index.ts";
/** Output of `pwts build`, relative to the plugin directory. */
export const PLUGIN_OUTPUT = "build/plugin.wasm";

export interface BuildOptions {
  /** Output file (default `<dir>/build/plugin.wasm`). */
  outFile?: string;
  /** Debug build: names kept, no size optimization. */
  debug?: boolean;
}

export interface BuildResult extends ModuleCheck {
  outFile: string;
  /** Size of the written module in bytes. */
  size: number;
  /** Size straight out of asc, before the wasm-opt pass. */
  compiledSize: number;
}

/** Builds the plugin in `dir`; throws UserError on compile errors or imports Envoy lacks. */
export async function buildPlugin(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const pluginDir = resolve(dir);
  const entry = join(pluginDir, PLUGIN_ENTRY);
  if (!(await stat(entry).catch(() => null))?.isFile()) {
    throw new UserError(`${dir} is not a plugin directory: expected the entry file ${PLUGIN_ENTRY} in it`);
  }
  const sdk = await loadSdk(pluginDir);
  let wasm: Uint8Array;
  let compiledSize: number;
  try {
    ({ wasm, compiledSize } = await sdk.compilePlugin({ baseDir: pluginDir, entry: PLUGIN_ENTRY, debug: options.debug }));
  } catch (err) {
    // Compile errors are the user's: show asc's diagnostics without a stack trace.
    if (err instanceof sdk.CompileError) throw new UserError(err.message);
    throw err;
  }
  const check = checkModule(wasm);
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
  await mkdir(join(outFile, ".."), { recursive: true });
  await writeFile(outFile, wasm);
  return { ...check, outFile, size: wasm.byteLength, compiledSize };
}
