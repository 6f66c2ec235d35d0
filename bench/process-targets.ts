/**
 * The processes a data-plane suite measures, by target name: plain servers (the baseline, an upstream) and
 * `pwts run` proxies. Each suite names its targets; setup starts them, teardown stops them all.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PwtsProcess, startPwts } from "../packages/proxy/test/support/pwts-process.ts";
import { startServerProcess } from "./server-process.ts";

export class ProcessTargets<Target extends string> {
  private readonly ports = new Map<Target, number>();
  private readonly pids = new Map<Target, number>();
  private readonly children: ChildProcess[] = [];
  private readonly proxies: PwtsProcess[] = [];
  private dir: string | undefined;

  /** A server only the other processes talk to (an upstream); returns its port. */
  async helper(code: string, args: string[] = []): Promise<number> {
    const server = await startServerProcess(code, args);
    this.children.push(server.child);
    return server.port;
  }

  /** A plain server measured as `target` (a baseline). */
  async server(target: Target, code: string, args: string[] = []): Promise<void> {
    const server = await startServerProcess(code, args);
    this.children.push(server.child);
    this.ports.set(target, server.port);
    this.pids.set(target, server.child.pid!);
  }

  /** `pwts run` with `yaml` (its listener named `bench`) and `args` measured as `target`. */
  async proxy(target: Target, yaml: string, args: string[] = []): Promise<void> {
    this.dir ??= mkdtempSync(join(tmpdir(), "pwts-bench-"));
    const p = await startPwts(yaml, this.dir, args);
    this.proxies.push(p);
    this.ports.set(target, p.ports.bench!);
    this.pids.set(target, p.child.pid!);
  }

  port(target: Target): number {
    return this.ports.get(target)!;
  }

  pid(target: Target): number {
    return this.pids.get(target)!;
  }

  async stop(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.stop()));
    for (const c of this.children) c.kill("SIGTERM");
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
