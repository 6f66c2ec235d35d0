/**
 * `pwts istio [PLUGIN]`: `pwts deploy --target istio-wasmplugin`, kept under its own name — the WasmPlugin
 * pinned by manifest digest, plus a ServiceEntry and EnvoyFilter for each callout cluster.
 */
import type { Command } from "commander";
import { type CommandIo, processIo } from "../ship-commands.ts";
import { addDeployOptions, type DeployCliOptions, deployCommand } from "./deploy.ts";

/** Options of `pwts istio`: those of `pwts deploy` without --target. */
export type IstioCliOptions = Omit<DeployCliOptions, "target">;

export function register(command: Command): void {
  addDeployOptions(command).action((plugin: string, options: IstioCliOptions) =>
    istioCommand(plugin, options),
  );
}

/** `pwts istio`: the YAML on `io.out` (or into --output); validation problems on `io.err`. */
export async function istioCommand(
  plugin: string,
  options: IstioCliOptions,
  io: CommandIo = processIo,
): Promise<void> {
  await deployCommand(plugin, { ...options, target: "istio-wasmplugin" }, io);
}
