/**
 * `pwts dev [config]`: runs an Envoy bootstrap like `pwts run`, and on every save rebuilds and swaps in
 * what changed (plugin sources, `.wasm` files, the config itself) without dropping connections. See
 * dev/dev-server.ts.
 */
import type { Command } from "commander";
import { DevOutput } from "../dev/dev-output.ts";
import { DevServer } from "../dev/dev-server.ts";
import {
  drainTimeoutMs,
  proxyOptions,
  type RunOptions,
  registerProxyOptions,
  serveUntilSignal,
} from "./run.ts";

interface DevOptions extends RunOptions {
  json?: boolean;
}

async function dev(file: string, options: DevOptions): Promise<void> {
  const out = new DevOutput(options.json === true);
  const say = options.quiet ? () => {} : (line: string) => out.progress(line);
  const proxyOpts = proxyOptions(options, say);
  const drainMs = drainTimeoutMs(options);
  say(`loading ${file}`);
  const server = new DevServer(file, proxyOpts, out);
  const proxy = await server.start();
  say(`ready; watching ${file}, its .wasm files and plugin sources`);
  await serveUntilSignal(proxy, drainMs, say);
  server.close();
}

export function register(command: Command): void {
  registerProxyOptions(command.argument("[config]", "Envoy v3 bootstrap file (YAML or JSON)", "envoy.yaml"))
    .option("--json", "print reloads, errors and requests as JSON lines on stdout (for tools)")
    .action(dev);
}
