/**
 * End-to-end helpers: run a plugin's own envoy.yaml with the real `pwts run` (a child process, as a user
 * runs it), talk HTTP to it with any Host header, and stop everything when the test ends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
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

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request on a fresh connection (node:http, so Host can be anything, unlike fetch). */
export function sendRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on("error", reject);
    req.end(options.body);
  });
}
