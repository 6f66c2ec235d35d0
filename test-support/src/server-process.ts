/**
 * Servers that tests run in a child process (a Docker registry, an npm registry): a free loopback port,
 * start-up polled until the server answers, and a stop that ends the process and removes its scratch
 * directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcessOptions {
  /** Names the server in errors ("docker-registry on 127.0.0.1:5000"). */
  name: string;
  command: string;
  args: readonly string[];
  /** A scratch directory removed by `stop`. */
  dir?: string;
  /** Resolves true once the server answers; polled every 100 ms. */
  ready(): Promise<boolean>;
  /** Polls before giving up (default 300, 30 s): generous, for a loaded CI machine. */
  attempts?: number;
}

export interface ServerProcess {
  child: ChildProcess;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** Ends the process (SIGTERM) and removes the scratch directory. */
  stop(): Promise<void>;
}

/** Starts the server and waits until it answers; on failure it is stopped and the error carries its stderr. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(options.command, options.args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    if (options.dir) await rm(options.dir, { recursive: true, force: true });
  };
  const attempts = options.attempts ?? 300;
  let why = `did not answer within ${attempts / 10} s`;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (child.exitCode !== null) {
      why = `exited with ${child.exitCode}`;
      break;
    }
    if (await options.ready().catch(() => false)) return { child, stderr: () => stderr, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`${options.name} did not start: ${why}\n${stderr.trim()}`);
}

/** A `ready` check: true once `url` answers with a status `accept` takes (connection errors are "not yet"). */
export function answers(
  url: string,
  accept: (status: number) => boolean = (status) => status >= 200 && status < 300,
): () => Promise<boolean> {
  return async () => {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      return accept(res.status);
    } catch {
      return false; // not listening yet
    }
  };
}
