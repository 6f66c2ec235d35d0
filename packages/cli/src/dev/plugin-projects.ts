/**
 * How `pwts dev` finds and rebuilds the plugin project behind a Wasm filter's `.wasm`. One entry per guest
 * flavour: a flavour joins `pwts dev` by adding an entry to PROJECT_KINDS (the TypeScript flavour will), and
 * nothing else in the dev server knows how a project is laid out or built.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { PLUGIN_ENTRY, PLUGIN_OUTPUT } from "@proxy-wasm-ts/sdk";
import { UserError } from "../user-error.ts";

/** A kind of plugin project: how to recognize it, what to watch, how to build it. */
export interface ProjectKind {
  /** Shown in the terminal ("assemblyscript"). */
  name: string;
  /** True when `dir` (the directory above `build/plugin.wasm`) is a project of this kind. */
  detect(dir: string): boolean;
  /** The files and directories of `dir` whose changes call for a rebuild (directories are watched whole). */
  sources(dir: string): string[];
  /**
   * Builds the project to `<dir>/build/plugin.wasm`; returns the module's size. Throws a UserError holding the
   * compiler's diagnostics when the sources do not build.
   */
  build(dir: string): Promise<{ size: number }>;
}

const assemblyScript: ProjectKind = {
  name: "assemblyscript",
  detect: (dir) => existsSync(join(dir, PLUGIN_ENTRY)),
  sources: (dir) => [join(dir, "assembly"), join(dir, "asconfig.json")],
  async build(dir) {
    // Loaded on first build: the compiler is large, and a config without projects never needs it.
    const { buildPlugin } = await import("../plugin-build/build-plugin.ts");
    try {
      return { size: (await buildPlugin(dir)).size };
    } catch (err) {
      // asc places a diagnostic as `in assembly/index.ts(16,19)`; editors and terminals link `file:line:col`.
      if (err instanceof UserError)
        throw new UserError(err.message.replace(/\bin (\S+)\((\d+),(\d+)\)/g, "at $1:$2:$3"));
      throw err;
    }
  },
};

/** The flavours `pwts dev` rebuilds, tried in order. */
export const PROJECT_KINDS: ProjectKind[] = [assemblyScript];

/** A plugin project found behind a `.wasm` path. */
export interface PluginProject {
  dir: string;
  kind: ProjectKind;
  /** The `.wasm` the build writes (the path the config names). */
  output: string;
}

/** The project whose build output is `wasmPath` (`<dir>/build/plugin.wasm`), if any kind recognizes it. */
export function findProject(wasmPath: string): PluginProject | undefined {
  const output = resolve(wasmPath);
  const suffix = `/${PLUGIN_OUTPUT}`;
  if (!output.endsWith(suffix)) return undefined;
  const dir = output.slice(0, -suffix.length);
  const kind = PROJECT_KINDS.find((k) => k.detect(dir));
  return kind ? { dir, kind, output } : undefined;
}
