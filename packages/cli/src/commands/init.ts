/** `pwts init NAME`: scaffold a plugin project whose `npm test` passes out of the box. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { defaultJsSpec, defaultPackageSpecs, type PluginLanguage, scaffoldPlugin } from "../init/scaffold.ts";
import { UserError } from "../user-error.ts";

interface InitOptions {
  dir?: string;
  sdk?: string;
  host?: string;
  cli?: string;
  js?: string;
  lang: string;
}

const LANGUAGES: Record<string, PluginLanguage> = {
  ts: "typescript",
  typescript: "typescript",
  as: "assemblyscript",
  assemblyscript: "assemblyscript",
};

const DEFAULT_SPEC_HELP =
  "(default: the checkout's own package as file:… when pwts runs from a checkout, else ^ the installed version)";

export function register(command: Command): void {
  command
    .argument("<name>", "project name (also its npm package name and the directory to create)")
    .option("--dir <path>", "directory to create (default: ./<name>)")
    .option("--sdk <spec>", `npm spec for @proxy-wasm-ts/sdk ${DEFAULT_SPEC_HELP}`)
    .option("--host <spec>", "npm spec for @proxy-wasm-ts/host (default: as for --sdk)")
    .option("--cli <spec>", "npm spec for @proxy-wasm-ts/cli (default: as for --sdk)")
    .option("--js <spec>", "npm spec for @proxy-wasm-ts/js, with --lang ts (default: as for --sdk)")
    .option("--lang <language>", "ts (plain TypeScript, @proxy-wasm-ts/js) or as (AssemblyScript)", "as")
    .action(async (name: string, options: InitOptions) => {
      const language = LANGUAGES[options.lang.toLowerCase()];
      if (!language)
        throw new UserError(`--lang ${options.lang}: expected ts (TypeScript) or as (AssemblyScript)`);
      const dir = resolve(options.dir ?? name);
      const defaults = defaultPackageSpecs(dir);
      const files = await scaffoldPlugin({
        name,
        dir,
        sdkSpec: options.sdk ?? defaults.sdkSpec,
        hostSpec: options.host ?? defaults.hostSpec,
        cliSpec: options.cli ?? defaults.cliSpec,
        language,
        ...(language === "typescript" ? { jsSpec: options.js ?? defaultJsSpec(dir) } : {}),
      });
      process.stdout.write(
        `created ${dir}\n${files.map((f) => `  ${f}`).join("\n")}\n\nnext:\n  cd ${options.dir ?? name}\n  npm install\n  npm test\n`,
      );
    });
}
