/**
 * Builds a plugin's `build/plugin.wasm` for tests (the path its envoy.yaml names), once: the module is
 * rebuilt only when a source under the plugin's or the SDK's `assembly/` is newer. Shared by the seed
 * plugins' tests; test files run in parallel processes, so the file is written by rename.
 */
import { mkdir, readdir, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compilePlugin } from "@proxy-wasm-ts/sdk";

const SDK_ASSEMBLY = fileURLToPath(new URL("../../../../packages/sdk/assembly", import.meta.url));

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/** Returns the path of the plugin's up-to-date `build/plugin.wasm`. */
export async function buildPluginForTest(pluginDir: string): Promise<string> {
  const output = join(pluginDir, "build", "plugin.wasm");
  const built = (await stat(output).catch(() => null))?.mtimeMs ?? 0;
  const sources = Math.max(await newestSource(join(pluginDir, "assembly")), await newestSource(SDK_ASSEMBLY));
  if (built > sources) return output;
  const { wasm } = await compilePlugin({ baseDir: pluginDir, entry: "assembly/index.ts" });
  await mkdir(join(pluginDir, "build"), { recursive: true });
  const temporary = `${output}.${process.pid}.tmp`;
  await writeFile(temporary, wasm);
  await rename(temporary, output);
  return output;
}
