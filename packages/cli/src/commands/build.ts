/** `pwts build [DIR]`: build an AssemblyScript or TypeScript plugin and check its imports. */
import { relative } from "node:path";
import { OPTIMIZE_GOALS, type OptimizeGoal } from "@proxy-wasm-ts/sdk";
import { type Command, Option } from "commander";
import { buildPlugin, PLUGIN_OUTPUT } from "../plugin-build/build-plugin.ts";

export function register(command: Command): void {
  command
    .argument("[dir]", "plugin directory", ".")
    .option("-o, --out <file>", `output file (default: <dir>/${PLUGIN_OUTPUT})`)
    .option("--debug", "debug build: keep names, no optimization (overrides --optimize)")
    // No commander default: a TypeScript plugin rejects the flag only when it is given.
    .addOption(
      new Option(
        "--optimize <goal>",
        "AssemblyScript plugins: speed (default; faster per request, larger module) or size " +
          "(smallest module); not for TypeScript plugins",
      ).choices(OPTIMIZE_GOALS),
    )
    .action(async (dir: string, options: { out?: string; debug?: boolean; optimize?: OptimizeGoal }) => {
      const result = await buildPlugin(dir, {
        outFile: options.out,
        debug: options.debug,
        optimize: options.optimize,
      });
      const where = relative(process.cwd(), result.outFile) || result.outFile;
      const logged = result.logs.length
        ? `logged while evaluated at build time:\n${result.logs.map((l) => `  ${l}`).join("\n")}\n`
        : "";
      process.stdout.write(
        `${where}: ${result.size} bytes (${(result.size / 1024).toFixed(1)} KiB), ABI ${result.abiVersion}, ${result.language}\n` +
          `imports (${result.imports.length}):\n${result.imports.map((i) => `  ${i}`).join("\n")}\n${logged}`,
      );
    });
}
