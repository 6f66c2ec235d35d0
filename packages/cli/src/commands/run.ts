/**
 * `pwts run CONFIG`: runs an Envoy bootstrap (YAML or JSON) on the local data plane, with its Wasm
 * plugins, until SIGINT/SIGTERM, then drains in-flight requests and exits.
 */

import { hasErrorCode } from "@proxy-wasm-ts/errors";
import type { LogLevel } from "@proxy-wasm-ts/host";
import { type LocalDataPlane, loadBootstrap, startProxy } from "@proxy-wasm-ts/proxy";
import type { Command } from "commander";
import { UserError } from "../user-error.ts";

/** Plugin log levels by name; the index is the ABI's `proxy_log_level_t`. */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical"] as const;

interface RunOptions {
  logLevel: string;
  drainTimeout: string;
  quiet?: boolean;
}

function progress(quiet: boolean | undefined): (line: string) => void {
  return quiet ? () => {} : (line) => process.stderr.write(`pwts: ${line}\n`);
}

async function run(file: string, options: RunOptions): Promise<void> {
  const level = LOG_LEVELS.indexOf(options.logLevel as (typeof LOG_LEVELS)[number]);
  if (level < 0)
    throw new UserError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${options.logLevel}`);
  const drainMs = Number(options.drainTimeout);
  if (!Number.isFinite(drainMs) || drainMs < 0) {
    throw new UserError(`--drain-timeout must be a number of milliseconds, got ${options.drainTimeout}`);
  }
  const say = progress(options.quiet);
  let proxy: LocalDataPlane;
  try {
    say(`loading ${file}`);
    const config = await loadBootstrap(file);
    proxy = await startProxy(config, { progress: say, pluginLogLevel: level as LogLevel });
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
  say("ready");
  await new Promise<void>((resolve) => {
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

export function register(command: Command): void {
  command
    .argument("<config>", "Envoy v3 bootstrap file (YAML or JSON)")
    .option("--log-level <level>", `plugin log level (${LOG_LEVELS.join(", ")})`, "info")
    .option("--drain-timeout <ms>", "on SIGINT/SIGTERM, how long in-flight requests may finish", "5000")
    .option("-q, --quiet", "no progress lines")
    .action(run);
}
