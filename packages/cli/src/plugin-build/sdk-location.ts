/**
 * Loads the @proxy-wasm-ts/sdk a plugin depends on (resolved from the plugin's directory), so the
 * plugin builds with the compiler and options of the SDK version it declares.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { UserError } from "../user-error.ts";

/** The part of the SDK's build API that `pwts build` uses. */
export interface SdkCompiler {
  compilePlugin(options: {
    baseDir: string;
    entry: string;
    debug?: boolean;
  }): Promise<{ wasm: Uint8Array; compiledSize: number }>;
  CompileError: new (...args: never[]) => Error;
}

export async function loadSdk(pluginDir: string): Promise<SdkCompiler> {
  const require = createRequire(join(pluginDir, "package.json"));
  let entry: string;
  try {
    entry = require.resolve("@proxy-wasm-ts/sdk");
  } catch {
    throw new UserError(
      `cannot find @proxy-wasm-ts/sdk from ${pluginDir}: add it to the plugin's dependencies and run npm install`,
    );
  }
  return (await import(pathToFileURL(entry).href)) as SdkCompiler;
}
