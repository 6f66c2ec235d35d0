/**
 * `pwts validate CONFIG...`: checks Envoy bootstraps (against Envoy's v3 API protos, its validate rules and
 * cross-references), docker-compose files (compose schema, referenced files) and Kubernetes manifests
 * (WasmPlugin, TrafficExtension, EnvoyExtensionPolicy, EnvoyPatchPolicy: schema and CEL rules, for the
 * chosen Istio / Envoy Gateway versions; ServiceEntry, EnvoyFilter). A folder stands for the configs in it.
 * Exit status: 0 when no errors (warnings allowed), 1 when any config has errors.
 */
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { type CommandIo, processIo } from "../ship-commands.ts";
import { UserError } from "../user-error.ts";

/** A path relative to the working directory when it lies below it, else as given. */
function shortPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}

/** File names `pwts validate FOLDER` picks up. */
const configNames =
  /^(envoy[\w.-]*\.ya?ml|(docker-)?compose\.ya?ml|wasmplugin[\w.-]*\.ya?ml|istio-[\w.-]+\.ya?ml)$/;
const skipDirs = new Set(["node_modules", ".git", "build", "dist", "fixtures", "coverage", ".data"]);

/** Expands folders into the config files under them (skipping node_modules, build output and fixtures). */
export async function collectConfigFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!skipDirs.has(entry.name) && !entry.name.startsWith(".")) await walk(join(dir, entry.name));
      } else if (configNames.test(entry.name)) files.push(join(dir, entry.name));
    }
  }
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UserError(`${path}: no such file or directory`);
    if (info.isDirectory()) await walk(path);
    else files.push(path);
  }
  return files.sort();
}

export function register(command: Command): void {
  command
    .argument(
      "<config...>",
      "files or folders (folders: envoy*.yaml, docker-compose.yaml, wasmplugin*.yaml, istio-*.yaml, envoy-gateway*.yaml)",
    )
    .option("-q, --quiet", "print errors only, no warnings or summary")
    .option("--istio-version <version>", "Istio release to check Istio kinds against (default 1.30)")
    .option(
      "--envoy-gateway-version <version>",
      "Envoy Gateway release to check its kinds against (default 1.9)",
    )
    .action(async (paths: string[], options: ValidateCliOptions) => {
      process.exitCode = await validateCommand(paths, options);
    });
}

/** Options of `pwts validate`. */
export interface ValidateCliOptions {
  quiet?: boolean;
  istioVersion?: string;
  envoyGatewayVersion?: string;
}

/** `pwts validate`: problems and a summary on `io.out`; returns the exit status (1 when any error). */
export async function validateCommand(
  paths: string[],
  options: ValidateCliOptions,
  io: Pick<CommandIo, "out"> = processIo,
): Promise<number> {
  const files = await collectConfigFiles(paths);
  if (files.length === 0) throw new UserError(`no config files found in ${paths.join(", ")}`);
  const { formatProblem, parseMinorVersion, validateConfigFiles } = await import("@proxy-wasm-ts/ship");
  for (const [flag, value] of [
    ["--istio-version", options.istioVersion],
    ["--envoy-gateway-version", options.envoyGatewayVersion],
  ] as const) {
    if (value !== undefined && !parseMinorVersion(value)) {
      throw new UserError(`${flag}: expected a version such as 1.29, got "${value}"`);
    }
  }
  const problems = await validateConfigFiles(files, {
    ...(options.istioVersion ? { istio: options.istioVersion } : {}),
    ...(options.envoyGatewayVersion ? { envoyGateway: options.envoyGatewayVersion } : {}),
  });
  const shown = options.quiet ? problems.filter((p) => p.severity === "error") : problems;
  for (const p of shown) io.out(`${formatProblem({ ...p, file: shortPath(p.file) })}\n`);
  const errors = problems.filter((p) => p.severity === "error");
  const failed = new Set(errors.map((p) => p.file)).size;
  if (!options.quiet) {
    io.out(
      `${files.length} config(s) checked: ${files.length - failed} ok, ${failed} with errors ` +
        `(${errors.length} error(s), ${problems.length - errors.length} warning(s))\n`,
    );
  }
  return errors.length > 0 ? 1 : 0;
}
