/**
 * Loads the @proxy-wasm-ts/sdk a plugin depends on (resolved from the plugin's directory), so the
 * plugin builds with the compiler and options of the SDK version it declares; falls back to the
 * SDK the CLI itself depends on.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as bundledSdk from "@proxy-wasm-ts/sdk";

export type Sdk = typeof bundledSdk;

export async function loadSdk(pluginDir: string): Promise<Sdk> {
  const require = createRequire(join(pluginDir, "package.json"));
  let entry: string;
  try {
    entry = require.resolve("@proxy-wasm-ts/sdk");
  } catch {
    return bundledSdk;
  }
  return (await import(pathToFileURL(entry).href)) as Sdk;
}
