/**
 * `npm start`: builds what is not built yet, starts the whole demo (services + every plugin on its own local
 * data plane), prints what runs where and the commands to try, and stops everything on Ctrl-C.
 *
 *   npm start                        # default ports (plugins/README.md)
 *   npm start -- --port-offset 100   # every port moved by 100
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CompileError } from "@proxy-wasm-ts/sdk";
import { DemoPortInUseError, type RunningPart, startDemo } from "./demo-stack.ts";
import { parsePortOffset } from "./port-offset.ts";
import { serviceUrls, walkthroughSteps } from "./walkthrough.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);
const fail = (message: string): never => {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
};

function table(parts: RunningPart[]): string {
  const width = Math.max(...parts.map((p) => p.name.length));
  const addressWidth = Math.max(...parts.map((p) => p.address.length));
  return parts
    .map((p) => `  ${p.name.padEnd(width)}  ${p.address.padEnd(addressWidth)}  ${p.note}`)
    .join("\n");
}

let args: { values: { "port-offset"?: string; help?: boolean } };
try {
  args = parseArgs({ options: { "port-offset": { type: "string" }, help: { type: "boolean", short: "h" } } });
} catch (err) {
  fail((err as Error).message);
}
if (args!.values.help) {
  say("usage: npm start [-- --port-offset N]");
  process.exit(0);
}
let portOffset = 0;
try {
  portOffset = parsePortOffset(args!.values["port-offset"]);
} catch (err) {
  fail((err as Error).message);
}

say("proxy-wasm-ts demo: starting (Ctrl-C stops everything)");
let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  demo = await startDemo({
    root,
    portOffset,
    dataDir: `${root}.data/demo`,
    progress: (line) => say(`  ${line}`),
    proxyOutput: (plugin, text) => {
      for (const line of text.split("\n")) if (line) say(`[${plugin}] ${line}`);
    },
  });
} catch (err) {
  if (err instanceof DemoPortInUseError) fail(err.message);
  if (err instanceof CompileError) fail(`a plugin does not build: ${err.message}`);
  throw err;
}

const urls = serviceUrls(portOffset);
say("\nWhat runs where:");
say(table(demo!.parts));
say("\nTry these (each plugin's access and plugin logs appear below, prefixed with its name):");
for (const step of walkthroughSteps(portOffset)) say(`\n# ${step.title}\n${step.command}`);
say(`\nDashboard: ${urls.dashboard}`);
say("\nREADY: the demo is up. Ctrl-C to stop.");

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  say(`\n${signal}: stopping`);
  demo!.stop().then(
    () => {
      say("stopped");
      process.exit(0);
    },
    (err) => fail(`while stopping: ${(err as Error).message}`),
  );
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
