/**
 * Builds a plugin's `assembly/index.ts` into `build/plugin.wasm` once per test process, the way `pwts build`
 * does (the SDK's compilePlugin with the SDK's options). The unit and e2e test files of one plugin may run
 * in parallel, so the module is written to a temporary file and renamed into place.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { compilePlugin, PLUGIN_ENTRY, PLUGIN_OUTPUT } from "@proxy-wasm-ts/sdk";

const builds = new Map<string, Promise<Uint8Array>>();

async function build(pluginDir: string): Promise<Uint8Array> {
  const { wasm } = await compilePlugin({ baseDir: pluginDir, entry: PLUGIN_ENTRY });
  const outFile = join(pluginDir, PLUGIN_OUTPUT);
  await mkdir(dirname(outFile), { recursive: true });
  const temporary = `${outFile}.${process.pid}.tmp`;
  await writeFile(temporary, wasm);
  await rename(temporary, outFile);
  return wasm;
}

/** The plugin in `pluginDir`, compiled (and written to `build/plugin.wasm`) on first use. */
export function buildPlugin(pluginDir: string): Promise<Uint8Array> {
  let pending = builds.get(pluginDir);
  if (!pending) {
    pending = build(pluginDir);
    builds.set(pluginDir, pending);
  }
  return pending;
}

/** The directory of the plugin whose test file is at `testFileUrl` (`import.meta.url` of `<plugin>/test/x.test.ts`). */
export function pluginDirOf(testFileUrl: string): string {
  return new URL("..", testFileUrl).pathname.replace(/\/$/, "");
}
