/**
 * Builds a plugin's `assembly/index.ts` into `build/plugin.wasm` the way `pwts build` does (the SDK's
 * compilePlugin with the SDK's options), at most once per test process. A TypeScript plugin (`src/index.ts`,
 * @proxy-wasm-ts/js) goes through `pwts build` itself (bundle, engine, snapshot, import check). Compiling
 * takes tens of seconds on a busy machine, so a `build/plugin.wasm` newer than every source it depends on
 * (the plugin's assembly/, plugins/shared-assembly/, the SDK's assembly/, src/ and asconfig.json; for a
 * TypeScript plugin its src/, @proxy-wasm-ts/js and the build pipeline) is reused. The unit and e2e test files of one plugin may run in
 * parallel, so the module is written to a temporary file and renamed into place.
 */
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildPlugin as pwtsBuild, TS_PLUGIN_ENTRY } from "@proxy-wasm-ts/cli/build";
import { compilePlugin, PLUGIN_ENTRY, PLUGIN_OUTPUT } from "@proxy-wasm-ts/sdk";

const SDK_DIR = dirname(createRequire(import.meta.url).resolve("@proxy-wasm-ts/sdk/package.json"));
/** AssemblyScript shared by several plugins, imported by relative path from their assembly/. */
const SHARED_ASSEMBLY_DIR = fileURLToPath(new URL("../shared-assembly", import.meta.url));
/** What a TypeScript plugin's module is built from besides its own src/: the guest API and the build pipeline. */
const JS_PACKAGE_DIR = dirname(createRequire(import.meta.url).resolve("@proxy-wasm-ts/js/package.json"));
const TS_PIPELINE_DIR = fileURLToPath(
  new URL("../../packages/cli/src/plugin-build/ts-plugin", import.meta.url),
);
const builds = new Map<string, Promise<Uint8Array>>();

/** Newest modification time (ms) of a file or of any file under a directory; 0 when absent. */
async function newestChange(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.map((entry) => newestChange(join(path, entry))));
  return Math.max(info.mtimeMs, ...times);
}

/** Whether `pluginDir` is a TypeScript plugin (@proxy-wasm-ts/js) rather than an AssemblyScript one. */
async function isTypeScriptPlugin(pluginDir: string): Promise<boolean> {
  return (await stat(join(pluginDir, TS_PLUGIN_ENTRY)).catch(() => undefined))?.isFile() ?? false;
}

/** Whether `pluginDir`'s `build/plugin.wasm` exists and is newer than every source it is built from. */
export async function isBuildUpToDate(pluginDir: string): Promise<boolean> {
  const built = await stat(join(pluginDir, PLUGIN_OUTPUT)).catch(() => undefined);
  if (!built) return false;
  const sources = (await isTypeScriptPlugin(pluginDir))
    ? [join(pluginDir, "src"), join(JS_PACKAGE_DIR, "src"), join(JS_PACKAGE_DIR, "glue"), TS_PIPELINE_DIR]
    : [
        join(pluginDir, "assembly"),
        SHARED_ASSEMBLY_DIR,
        join(SDK_DIR, "assembly"),
        join(SDK_DIR, "src"),
        join(SDK_DIR, "asconfig.json"),
      ];
  const newest = Math.max(...(await Promise.all(sources.map(newestChange))));
  return built.mtimeMs > newest;
}

async function build(pluginDir: string): Promise<Uint8Array> {
  const outFile = join(pluginDir, PLUGIN_OUTPUT);
  if (await isBuildUpToDate(pluginDir)) return new Uint8Array(await readFile(outFile));
  if (await isTypeScriptPlugin(pluginDir)) {
    const temporaryOut = `${outFile}.${process.pid}.tmp`;
    await pwtsBuild(pluginDir, { outFile: temporaryOut });
    await rename(temporaryOut, outFile);
    return new Uint8Array(await readFile(outFile));
  }
  const { wasm } = await compilePlugin({ baseDir: pluginDir, entry: PLUGIN_ENTRY });
  await mkdir(dirname(outFile), { recursive: true });
  const temporary = `${outFile}.${process.pid}.tmp`;
  await writeFile(temporary, wasm);
  await rename(temporary, outFile);
  return wasm;
}

/** The plugin in `pluginDir`, compiled (and written to `build/plugin.wasm`) unless that is up to date. */
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
  return fileURLToPath(new URL("..", testFileUrl)).replace(/\/$/, "");
}
