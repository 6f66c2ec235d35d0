/**
 * `pwts-build [DIR] [--debug]`: the SDK's own minimal build command (compile `assembly/index.ts` to
 * `build/plugin.wasm`), for plugin projects that do not install the full `pwts` CLI. `pwts build` does
 * the same and also checks the module's imports against what Envoy provides.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CompileError, compilePlugin } from "./compile.ts";
import { PLUGIN_ENTRY, PLUGIN_OUTPUT } from "./plugin-layout.ts";

async function run(args: string[]): Promise<number> {
  const debug = args.includes("--debug");
  const dir = resolve(args.find((a) => !a.startsWith("--")) ?? ".");
  try {
    const { wasm } = await compilePlugin({ baseDir: dir, entry: PLUGIN_ENTRY, debug });
    const outFile = join(dir, PLUGIN_OUTPUT);
    await mkdir(dirname(outFile), { recursive: true });
    await writeFile(outFile, wasm);
    process.stdout.write(`${PLUGIN_OUTPUT}: ${wasm.byteLength} bytes\n`);
    return 0;
  } catch (err) {
    if (err instanceof CompileError) {
      process.stderr.write(`pwts-build: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await run(process.argv.slice(2));
