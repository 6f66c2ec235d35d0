/** Starts the data plane in-process from YAML text, capturing its stdout/stderr lines. */
import { parseBootstrapText } from "../../src/config/load-config.ts";
import { type LocalDataPlane, startProxy } from "../../src/proxy.ts";

export interface RunningTestProxy {
  proxy: LocalDataPlane;
  stdout: string[];
  stderr: string[];
  /** `http://host:port` of the listener named `name` (or the first). */
  url(name?: string): string;
  port(name?: string): number;
  adminUrl(): string;
  close(): Promise<void>;
}

export async function startTestProxy(yaml: string, baseDir = process.cwd()): Promise<RunningTestProxy> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const config = parseBootstrapText(yaml, "test.yaml", baseDir);
  const proxy = await startProxy(config, {
    output: { stdout: (t) => void stdout.push(t), stderr: (t) => void stderr.push(t) },
  });
  const find = (name?: string) => {
    const l = name ? proxy.listeners.find((x) => x.name === name) : proxy.listeners[0];
    if (!l) throw new Error(`no listener ${name}`);
    return l;
  };
  return {
    proxy,
    stdout,
    stderr,
    url: (name) => `http://127.0.0.1:${find(name).port}`,
    port: (name) => find(name).port,
    adminUrl: () => `http://127.0.0.1:${proxy.admin!.port}`,
    close: () => proxy.close(),
  };
}
