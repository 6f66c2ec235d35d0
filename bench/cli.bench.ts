/**
 * `pwts` start-up: wall time of `pwts --help` and of `pwts inspect <plugin>` against `node -e 0`, each a fresh
 * process, run interleaved so all three see the same machine. The CLI runs from its built JavaScript (as an
 * installed `pwts` does), so this measures what users wait for. Target: `--help` ≤ 2× `node -e 0`.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { defineSuite } from "./benchmark.ts";

const PWTS = fileURLToPath(new URL("../packages/cli/bin/pwts.js", import.meta.url));
const PLUGIN_DIR = fileURLToPath(new URL("../plugins/header-mutation", import.meta.url));
const PLUGIN_WASM = `${PLUGIN_DIR}/build/plugin.wasm`;
/** Processes per sample: a sample is their mean, so one slow start does not decide it. */
const STARTS = 5;

function msPerStart(args: string[]): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < STARTS; i++) execFileSync(process.execPath, args, { stdio: "ignore" });
  return Number(process.hrtime.bigint() - start) / 1e6 / STARTS;
}

export default defineSuite({
  name: "cli",
  description:
    "pwts start-up: wall ms per process for --help and inspect, against node -e 0 (target --help ≤ 2×)",
  runs: 7,
  async setup() {
    await buildPlugin(PLUGIN_DIR);
    // The built CLI must be current: the same incremental build npm test runs.
    execFileSync(
      process.execPath,
      [fileURLToPath(new URL("../scripts/build-packages.mjs", import.meta.url))],
      {
        stdio: "inherit",
      },
    );
  },
  cases: [
    { name: "node -e 0", unit: "ms/process", sample: () => msPerStart(["-e", "0"]) },
    {
      name: "pwts --help",
      unit: "ms/process",
      baseline: "node -e 0",
      ratioTarget: 2,
      sample: () => msPerStart([PWTS, "--help"]),
    },
    {
      name: "pwts inspect header-mutation",
      unit: "ms/process",
      baseline: "node -e 0",
      sample: () => msPerStart([PWTS, "inspect", PLUGIN_WASM]),
    },
  ],
});
