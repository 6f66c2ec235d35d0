/**
 * `pwts pull IMAGE`: fetches a Wasm image and checks it as Istio would load it (accepted layout, digests,
 * a valid module inside). Prints what it found; `--output` saves the module.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  addRegistryOptions,
  asUserError,
  type CommandIo,
  processIo,
  type RegistryCliOptions,
  registryAccess,
} from "../ship-commands.ts";

export function register(command: Command): void {
  addRegistryOptions(
    command
      .argument("<image>", "REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]")
      .option("-o, --output <file>", "write the module to this file"),
  ).action((image: string, options: PullOptions) => pullCommand(image, options));
}

/** Options of `pwts pull`. */
export interface PullOptions extends RegistryCliOptions {
  output?: string;
}

/** `pwts pull`: prints digest, layout and module size on `io.out`. */
export async function pullCommand(
  image: string,
  options: PullOptions,
  io: CommandIo = processIo,
): Promise<void> {
  const access = await registryAccess(image, options, io);
  const { pullWasm } = await import("@proxy-wasm-ts/ship");
  try {
    const result = await pullWasm(image, access);
    if (options.output) await writeFile(options.output, result.wasm);
    io.out(
      `digest: ${result.digest}\nlayout: ${result.layout}\nmodule: ${result.wasm.byteLength} bytes, valid WebAssembly` +
        `${options.output ? `, written to ${options.output}` : ""}\n`,
    );
  } catch (err) {
    throw asUserError(err);
  }
}
