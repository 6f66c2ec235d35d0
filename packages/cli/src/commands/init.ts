/** `pwts init NAME`: scaffold a plugin project whose `npm test` passes out of the box. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { DEFAULT_PACKAGE_SPEC, scaffoldPlugin } from "../init/scaffold.ts";

export function register(command: Command): void {
  command
    .argument("<name>", "project name (also its npm package name and the directory to create)")
    .option("--dir <path>", "directory to create (default: ./<name>)")
    .option(
      "--sdk <spec>",
      "npm spec for @proxy-wasm-ts/sdk, e.g. file:../proxy-wasm-ts/packages/sdk",
      DEFAULT_PACKAGE_SPEC,
    )
    .option("--host <spec>", "npm spec for @proxy-wasm-ts/host", DEFAULT_PACKAGE_SPEC)
    .action(async (name: string, options: { dir?: string; sdk: string; host: string }) => {
      const dir = resolve(options.dir ?? name);
      const files = await scaffoldPlugin({ name, dir, sdkSpec: options.sdk, hostSpec: options.host });
      process.stdout.write(
        `created ${dir}\n${files.map((f) => `  ${f}`).join("\n")}\n\nnext:\n  cd ${options.dir ?? name}\n  npm install\n  npm test\n`,
      );
    });
}
