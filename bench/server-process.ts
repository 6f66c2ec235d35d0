/**
 * Starts a small server written as plain JavaScript in its own Node.js process (`node --input-type=module
 * -e CODE ARGS...`), so the load generator in the bench process never shares its event loop. The script
 * prints `port N` once it listens on 127.0.0.1.
 */
import { type ChildProcess, spawn } from "node:child_process";

const ROOT = new URL("..", import.meta.url).pathname;

export interface ServerProcess {
  child: ChildProcess;
  port: number;
}

export function startServerProcess(code: string, args: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", code, ...args], {
    cwd: ROOT, // so the script resolves the repository's packages (undici)
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once("exit", (code) => reject(new Error(`server process exited with ${code} before listening`)));
  });
}
