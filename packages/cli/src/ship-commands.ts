/**
 * What the shipping commands (push, pull, istio, validate) share: where their output goes, registry
 * options (credentials, plain HTTP), reading a plugin's module, and turning registry failures into
 * one-line user errors.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { PLUGIN_OUTPUT } from "./plugin-build/build-plugin.ts";
import { isSystemError, UserError, userErrorOf } from "./user-error.ts";

/** Reads the module a PLUGIN argument names: a `.wasm` file, or a plugin folder's built module. */
export async function readPluginModule(
  plugin: string,
): Promise<{ path: string; bytes: Uint8Array; folder?: string }> {
  const info = await stat(plugin).catch(() => undefined);
  if (!info)
    throw new UserError(`${plugin}: no such file or directory (expected a plugin folder or a .wasm file)`);
  const path = info.isDirectory() ? join(plugin, PLUGIN_OUTPUT) : plugin;
  const bytes = await readFile(path).catch(() => {
    throw new UserError(`${path}: not found; build the plugin first (pwts build ${plugin})`);
  });
  return { path, bytes: new Uint8Array(bytes), ...(info.isDirectory() ? { folder: plugin } : {}) };
}

/** Where a command writes and reads; tests pass their own to run commands in-process. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /** All of stdin (for --password-stdin). */
  readStdin(): Promise<string>;
}

/** The process's own stdout, stderr and stdin. */
export const processIo: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};

/** Registry options shared by push, pull and istio. */
export interface RegistryCliOptions {
  username?: string;
  passwordStdin?: boolean;
  plainHttp?: boolean;
}

export function addRegistryOptions(command: Command): Command {
  return command
    .option(
      "-u, --username <user>",
      "registry user (or PWTS_REGISTRY_USERNAME; default: ~/.docker/config.json)",
    )
    .option("--password-stdin", "read the registry password from stdin (or PWTS_REGISTRY_PASSWORD)")
    .option("--plain-http", "speak http:// to the registry (default for localhost and 127.0.0.0/8 only)");
}

/** Credentials and transport for one registry, from the command's options. */
export async function registryAccess(image: string, options: RegistryCliOptions, io: CommandIo) {
  // The ship library is loaded on use, so `pwts --help` and other commands do not pay for it.
  const { parseImageReference, resolveCredentials } = await import("@proxy-wasm-ts/ship");
  let registry: string;
  try {
    registry = parseImageReference(image).registry;
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  // The password is the first line of stdin, as `docker login --password-stdin` reads it.
  const password = options.passwordStdin ? (await io.readStdin()).replace(/\r?\n$/, "") : undefined;
  try {
    const credentials = resolveCredentials(registry, {
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(password !== undefined ? { password } : {}),
    });
    return { ...(credentials ? { credentials } : {}), ...(options.plainHttp ? { plainHttp: true } : {}) };
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

/**
 * Registry failures, rejected input (a `PWTS_ERR_*` code says which) and files that cannot be read or written
 * are user errors: one line, no stack. Anything else is returned as it is, a bug with its stack.
 */
export function asUserError(err: unknown): unknown {
  return userErrorOf(err) ?? (isSystemError(err) ? new UserError(err.message) : err);
}
