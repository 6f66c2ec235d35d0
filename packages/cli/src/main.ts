/**
 * `pwts`: the proxy-wasm-ts command line. Each subcommand lives in `commands/<name>.ts` and exports a
 * `register(command)` function that adds its arguments, options and action. This file lists the commands
 * with their one-line summaries and loads only the module of the command being run: the data plane, the
 * host, the compiler and the OCI client stay unloaded for `pwts --help` and for every other command.
 */
import { PLUGIN_OUTPUT } from "@proxy-wasm-ts/sdk";
import { Command, CommanderError } from "commander";
import { userErrorOf } from "./user-error.ts";

interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<{ register(command: Command): void }>;
}

// Subcommands, in the order `pwts --help` lists them.
const COMMANDS: readonly CommandEntry[] = [
  {
    name: "init",
    summary: "create a plugin project (assembly/, test/, envoy.yaml, package.json, README)",
    load: () => import("./commands/init.ts"),
  },
  {
    name: "build",
    summary: `compile a plugin (assembly/index.ts) to ${PLUGIN_OUTPUT}, print its size and imports`,
    load: () => import("./commands/build.ts"),
  },
  {
    name: "inspect",
    summary: "show a plugin's ABI version, size, imports and exports, and whether Envoy could load it",
    load: () => import("./commands/inspect.ts"),
  },
  {
    name: "run",
    summary: "run an Envoy bootstrap config (listeners, clusters, Wasm filters) locally, no Docker or Envoy",
    load: () => import("./commands/run.ts"),
  },
  {
    name: "dev",
    summary: "run a config like `run`, rebuilding and hot-swapping plugins and config on save",
    load: () => import("./commands/dev.ts"),
  },
  {
    name: "push",
    summary: "push a plugin as an OCI image Istio accepts; prints the manifest digest",
    load: () => import("./commands/push.ts"),
  },
  {
    name: "pull",
    summary: "fetch a Wasm image and check Istio could load it",
    load: () => import("./commands/pull.ts"),
  },
  {
    name: "deploy",
    summary:
      "generate a plugin's manifests for Istio (WasmPlugin, TrafficExtension) or Envoy Gateway, validated",
    load: () => import("./commands/deploy.ts"),
  },
  {
    name: "istio",
    summary: "generate the WasmPlugin (and callout ServiceEntry/EnvoyFilter) for a plugin, validated",
    load: () => import("./commands/istio.ts"),
  },
  {
    name: "validate",
    summary: "check Envoy configs, docker-compose files and Istio manifests (exit 1 on errors)",
    load: () => import("./commands/validate.ts"),
  },
];

/** The command a command line names: its first operand, or the one after `help`. */
function chosenCommand(argv: readonly string[]): string | undefined {
  const operands = argv.filter((arg) => !arg.startsWith("-"));
  return operands[0] === "help" ? operands[1] : operands[0];
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command("pwts")
    .description("Write, test, run and ship Proxy-Wasm plugins for Envoy and Istio in TypeScript")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const chosen = chosenCommand(argv);
  for (const entry of COMMANDS) {
    const command = program.command(entry.name).description(entry.summary);
    if (entry.name === chosen) (await entry.load()).register(command);
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const userError = userErrorOf(err);
    if (userError) {
      process.stderr.write(`pwts: ${userError.message}\n`);
      return userError.exitCode;
    }
    // A bug: thrown on, so Node prints its stack and pwts exits with 1.
    throw err;
  }
}
