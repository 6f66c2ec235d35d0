/**
 * Runs a plugin's own envoy.yaml unchanged with the real `pwts run` (a child process, as a user runs it), on
 * the addresses the file names; output is captured and the process stopped when the test ends. For a config
 * run in this process with its addresses moved to free ports, see in-process-data-plane.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
// The CLI's package entry is src/main.ts; its executable sits next to it in bin/.
const PWTS_BIN = join(dirname(require.resolve("@proxy-wasm-ts/cli")), "..", "bin", "pwts.js");

/** A running `pwts run <config>`. */
export class PwtsRun {
  private stdout = "";
  private stderr = "";
  private readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      this.stdout += text;
    });
    child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** Everything the proxy printed (access log, plugin logs, progress lines). */
  get output(): string {
    return this.stdout + this.stderr;
  }

  /**
   * The first output line matching `pattern`, waiting for it if needed: plugins log from on_log, which
   * runs after the client already has its response, so a line may still be on its way.
   */
  async waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const find = () => this.output.split("\n").find((line) => pattern.test(line));
    const found = find();
    if (found !== undefined) return found;
    const line = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const onData = () => {
        const hit = find();
        if (hit !== undefined) done(hit);
      };
      const done = (value: string | undefined) => {
        clearTimeout(timer);
        this.child.stdout?.off("data", onData);
        this.child.stderr?.off("data", onData);
        resolve(value);
      };
      this.child.stdout?.on("data", onData);
      this.child.stderr?.on("data", onData);
    });
    if (line === undefined) throw new Error(`no output line matches ${pattern}:\n${this.output}`);
    return line;
  }

  /** Resolves once `pwts run` says "ready"; rejects (and stops the process) if it exits or takes too long. */
  async ready(timeoutMs: number): Promise<void> {
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const check = () => {
        if (/pwts: ready/.test(this.stderr)) {
          clearTimeout(timer);
          this.child.stderr?.off("data", check);
          resolve(true);
        }
      };
      this.child.stderr?.on("data", check);
      this.exited.then(() => {
        clearTimeout(timer);
        resolve(/pwts: ready/.test(this.stderr));
      });
      check();
    });
    if (!started) {
      await this.stop();
      throw new Error(`pwts run did not become ready:\n${this.output}`);
    }
  }

  /** SIGTERM (pwts drains, then exits); SIGKILL if it is still running after 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const killer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(killer);
  }
}

/** Starts `pwts run <configFile>` and waits until it serves. */
export async function startPwtsRun(configFile: string, timeoutMs = 90_000): Promise<PwtsRun> {
  const child = spawn(process.execPath, [PWTS_BIN, "run", configFile, "--drain-timeout", "1000"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run = new PwtsRun(child);
  await run.ready(timeoutMs);
  return run;
}
