/** Runs `pwts run CONFIG` as a child process and reads its progress lines (ports) and output. */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const CLI = new URL("../../../cli/bin/pwts.js", import.meta.url).pathname;

export interface PwtsProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Listener ports by name, and "admin". */
  ports: Record<string, number>;
  /** Resolves with the exit code after SIGTERM (graceful drain). */
  stop(): Promise<number | null>;
  /** Waits until some stdout/stderr line matches. */
  waitFor(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs?: number): Promise<string>;
}

function lines(chunks: string[]): string[] {
  return chunks.join("").split("\n").filter(Boolean);
}

/** Starts pwts; rejects with its stderr if it exits before "ready". */
export function startPwts(yamlOrFile: string, dir: string, args: string[] = []): Promise<PwtsProcess> {
  let file = yamlOrFile;
  if (yamlOrFile.includes("\n")) {
    file = join(dir, `envoy-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yamlOrFile);
  }
  // PWTS_NODE_ARGS: extra Node flags for the child (profiling a bench target, see bench/README.md).
  const child = spawn(
    process.execPath,
    [...(process.env.PWTS_NODE_ARGS?.split(" ") ?? []), CLI, "run", file, ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.setEncoding("utf8").on("data", (d: string) => out.push(d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => err.push(d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const proc: PwtsProcess = {
    child,
    get stdout() {
      return lines(out);
    },
    get stderr() {
      return lines(err);
    },
    ports: {},
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    waitFor: (stream, pattern, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          const hit = (stream === "stdout" ? proc.stdout : proc.stderr).find((l) => pattern.test(l));
          if (hit) return resolve(hit);
          if (Date.now() - started > timeoutMs)
            return reject(new Error(`no ${stream} line matching ${pattern}`));
          setTimeout(poll, 20);
        };
        poll();
      }),
  };
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`pwts exited with ${code}: ${err.join("")}`));
    child.once("exit", onExit);
    const poll = setInterval(() => {
      const stderr = proc.stderr;
      if (!stderr.includes("pwts: ready")) return;
      clearInterval(poll);
      child.off("exit", onExit);
      for (const l of stderr) {
        const m = /^pwts: listener (\S+) \((?:http|tcp)\) on [^ ]+:(\d+)$/.exec(l);
        if (m) proc.ports[m[1]!] = Number(m[2]);
        const a = /^pwts: admin on [^ ]+:(\d+)$/.exec(l);
        if (a) proc.ports.admin = Number(a[1]);
      }
      resolve(proc);
    }, 20);
    child.once("exit", () => clearInterval(poll));
  });
}

/** Runs `pwts run` expecting it to fail at start: resolves with exit code and stderr. */
export function runPwtsExpectingFailure(file: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, "run", file], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdout!.resume();
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}
