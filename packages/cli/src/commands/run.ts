/**
 * `pwts run CONFIG`: runs an Envoy bootstrap (YAML or JSON) on the local data plane, with its Wasm
 * plugins, until SIGINT/SIGTERM, then drains in-flight requests and exits.
 */

import { hasErrorCode } from "@proxy-wasm-ts/errors";
import type { LogLevel } from "@proxy-wasm-ts/host";
import { type LocalDataPlane, loadBootstrap, type ProxyOptions, startProxy } from "@proxy-wasm-ts/proxy";
import type { Command } from "commander";
import { UserError } from "../user-error.ts";

/** Plugin log levels by name; the index is the ABI's `proxy_log_level_t`. */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical"] as const;

export interface RunOptions {
  logLevel: string;
  drainTimeout: string;
  callbackTimeout: string;
  quiet?: boolean;
}

export function progress(quiet: boolean | undefined): (line: string) => void {
  return quiet ? () => {} : (line) => process.stderr.write(`pwts: ${line}\n`);
}

/** The proxy options `pwts run` and `pwts dev` share, checked; throws UserError naming the flag. */
export function proxyOptions(options: RunOptions, say: (line: string) => void): ProxyOptions {
  const level = LOG_LEVELS.indexOf(options.logLevel as (typeof LOG_LEVELS)[number]);
  if (level < 0)
    throw new UserError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${options.logLevel}`);
  const callbackTimeoutMs = Number(options.callbackTimeout);
  if (!Number.isFinite(callbackTimeoutMs) || callbackTimeoutMs < 0) {
    throw new UserError(
      `--callback-timeout must be a number of milliseconds (0 = no limit), got ${options.callbackTimeout}`,
    );
  }
  return { progress: say, pluginLogLevel: level as LogLevel, callbackTimeoutMs };
}

/** The drain time of SIGINT/SIGTERM; throws UserError naming the flag. */
export function drainTimeoutMs(options: RunOptions): number {
  const drainMs = Number(options.drainTimeout);
  if (!Number.isFinite(drainMs) || drainMs < 0) {
    throw new UserError(`--drain-timeout must be a number of milliseconds, got ${options.drainTimeout}`);
  }
  return drainMs;
}

/** Starts the proxy; config and listen errors become UserErrors (one line, no stack). */
export async function startOrExplain(file: string, options: ProxyOptions): Promise<LocalDataPlane> {
  try {
    const config = await loadBootstrap(file);
    return await startProxy(config, options);
  } catch (err) {
    if (hasErrorCode(err)) {
      switch (err.code) {
        case "PWTS_ERR_CONFIG":
          throw new UserError(`${file}: ${err.message}`);
        case "PWTS_ERR_LISTEN":
          throw new UserError(err.message);
      }
    }
    throw err;
  }
}

/** Serves until SIGINT/SIGTERM, then drains (a second signal closes at once). */
export function serveUntilSignal(
  proxy: LocalDataPlane,
  drainMs: number,
  say: (line: string) => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        say(`${signal} again: closing now`);
        proxy.close().finally(resolve);
        return;
      }
      stopping = true;
      say(`${signal}: draining (up to ${drainMs} ms)`);
      proxy.drain(drainMs).finally(() => {
        say("stopped");
        resolve();
      });
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
}

async function run(file: string, options: RunOptions): Promise<void> {
  const say = progress(options.quiet);
  const proxyOpts = proxyOptions(options, say);
  const drainMs = drainTimeoutMs(options);
  say(`loading ${file}`);
  const proxy = await startOrExplain(file, proxyOpts);
  say("ready");
  await serveUntilSignal(proxy, drainMs, say);
}

/** The options `pwts run` and `pwts dev` share. */
export function registerProxyOptions(command: Command): Command {
  return command
    .option("--log-level <level>", `plugin log level (${LOG_LEVELS.join(", ")})`, "info")
    .option("--drain-timeout <ms>", "on SIGINT/SIGTERM, how long in-flight requests may finish", "5000")
    .option(
      "--callback-timeout <ms>",
      "stop a plugin callback running longer than this and fail its VM (the failure policy answers); 0 = no limit",
      "1000",
    )
    .option("-q, --quiet", "no progress lines");
}

export function register(command: Command): void {
  registerProxyOptions(command.argument("<config>", "Envoy v3 bootstrap file (YAML or JSON)")).action(run);
}
