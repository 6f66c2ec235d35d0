/**
 * `pwts`: the proxy-wasm-ts command line. Each subcommand lives in `commands/<name>.ts` and exports a
 * `register(program)` function; this file only wires them together and turns user errors into one line.
 */
import { Command, CommanderError } from "commander";
import { UserError } from "./user-error.ts";

type Registrar = (program: Command) => void;

// Subcommands, in the order `pwts --help` lists them.
const commands: Array<() => Promise<{ register: Registrar }>> = [
  () => import("./commands/init.ts"),
  () => import("./commands/build.ts"),
  () => import("./commands/inspect.ts"),
  () => import("./commands/run.ts"),
  () => import("./commands/push.ts"),
  () => import("./commands/pull.ts"),
  () => import("./commands/istio.ts"),
  () => import("./commands/validate.ts"),
];

export async function main(argv: string[]): Promise<number> {
  const program = new Command("pwts")
    .description("Write, test, run and ship Proxy-Wasm plugins for Envoy and Istio in TypeScript")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const load of commands) (await load()).register(program);
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof UserError) {
      process.stderr.write(`pwts: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
