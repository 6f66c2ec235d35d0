/**
 * `pwts-build [DIR] [--debug] [--optimize speed|size]`: the SDK's own minimal build command (compile
 * `assembly/index.ts` to `build/plugin.wasm`), for plugin projects that do not install the full `pwts`
 * CLI. `pwts build` does the same and also checks the module's imports against what Envoy provides.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CompileError, compilePlugin, isOptimizeGoal, OPTIMIZE_GOALS } from "./compile.ts";
import { PLUGIN_ENTRY, PLUGIN_OUTPUT } from "./plugin-layout.ts";

const USAGE = `usage: pwts-build [DIR] [--debug] [--optimize ${OPTIMIZE_GOALS.join("|")}]`;

function usageError(message: string): number {
  process.stderr.write(`pwts-build: ${message}\n${USAGE}\n`);
  return 2;
}

async function run(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    // node:util's parseArgs names the unknown option or the missing value.
    return usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const optimize = values.optimize ?? OPTIMIZE_GOALS[0];
  if (!isOptimizeGoal(optimize)) {
    return usageError(`--optimize must be one of ${OPTIMIZE_GOALS.join(", ")}, not "${optimize}"`);
  }
  if (positionals.length > 1) return usageError(`one plugin directory, not ${positionals.length}`);
  const dir = resolve(positionals[0] ?? ".");
  try {
    const { wasm } = await compilePlugin({
      baseDir: dir,
      entry: PLUGIN_ENTRY,
      debug: values.debug,
      optimize,
    });
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

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: { debug: { type: "boolean" }, optimize: { type: "string" } },
  });
}

process.exitCode = await run(process.argv.slice(2));
