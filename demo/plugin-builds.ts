/**
 * Builds each demo plugin whose module is missing or older than its sources (or the SDK's), the way
 * `pwts build` does, so `npm start` works on a fresh clone and is quick on the second run.
 */
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { compilePlugin, PLUGIN_ENTRY, PLUGIN_OUTPUT } from "@proxy-wasm-ts/sdk";

async function newestSourceTime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Whether `pluginDir`'s module must be (re)built: missing, or older than its assembly/ or the SDK's. */
export async function needsBuild(pluginDir: string, sdkAssemblyDir: string): Promise<boolean> {
  const built = await stat(join(pluginDir, PLUGIN_OUTPUT)).catch(() => undefined);
  if (!built) return true;
  const sources = Math.max(
    await newestSourceTime(join(pluginDir, "assembly")),
    await newestSourceTime(sdkAssemblyDir),
  );
  return sources > built.mtimeMs;
}

/** Compiles `pluginDir` into its `build/plugin.wasm`; returns the module size in bytes. */
export async function buildPlugin(pluginDir: string): Promise<number> {
  const { wasm } = await compilePlugin({ baseDir: pluginDir, entry: PLUGIN_ENTRY });
  const outFile = join(pluginDir, PLUGIN_OUTPUT);
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, wasm);
  return wasm.byteLength;
}
