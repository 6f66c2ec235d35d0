/**
 * `pwts pull IMAGE`: fetches a Wasm image and checks it as Istio would load it (accepted layout, digests,
 * a valid module inside). Prints what it found; `--output` saves the module.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  addRegistryOptions,
  asUserError,
  type RegistryCliOptions,
  registryAccess,
} from "../registry-options.ts";

export function register(program: Command): void {
  addRegistryOptions(
    program
      .command("pull")
      .description("fetch a Wasm image and check Istio could load it")
      .argument("<image>", "REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]")
      .option("-o, --output <file>", "write the module to this file"),
  ).action(async (image: string, options: RegistryCliOptions & { output?: string }) => {
    const access = await registryAccess(image, options);
    const { pullWasm } = await import("@proxy-wasm-ts/ship");
    try {
      const result = await pullWasm(image, access);
      if (options.output) await writeFile(options.output, result.wasm);
      process.stdout.write(
        `digest: ${result.digest}\nlayout: ${result.layout}\nmodule: ${result.wasm.byteLength} bytes, valid WebAssembly` +
          `${options.output ? `, written to ${options.output}` : ""}\n`,
      );
    } catch (err) {
      throw asUserError(err);
    }
  });
}
