/**
 * HTTP/2 load (h2c with prior knowledge) against a suite's processes, from h2load (Debian's nghttp2-client):
 * autocannon speaks only HTTP/1.1, and h2load is the load generator the nghttp2 project keeps for HTTP/2.
 * Reports wall µs per request and keeps each target's latest CPU µs per request, like HttpLoad.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { latestFigure } from "./benchmark.ts";
import { CONNECTIONS, DURATION_S } from "./http-load.ts";
import { processCpuMicros } from "./process-cpu.ts";
import type { ProcessTargets } from "./process-targets.ts";

const run = promisify(execFile);
/** Streams in flight per connection: with CONNECTIONS / STREAMS connections, as many requests at once as HTTP/1.1. */
const STREAMS = 4;

/** Throws a one-line reason when h2load is missing, before any process starts. */
export async function requireH2load(): Promise<void> {
  await run("h2load", ["--version"]).catch(() => {
    throw new Error("the HTTP/2 cases need h2load: apt-get install nghttp2-client");
  });
}

export class H2Load<Target extends string> {
  private readonly cpu = new Map<Target, number>();

  constructor(
    private readonly targets: ProcessTargets<Target>,
    private readonly path: string,
  ) {}

  async measure(target: Target): Promise<number> {
    const pid = this.targets.pid(target);
    const cpuBefore = processCpuMicros(pid);
    const url = `http://127.0.0.1:${this.targets.port(target)}${this.path}`;
    const args = ["-c", String(CONNECTIONS / STREAMS), "-m", String(STREAMS), "-D", String(DURATION_S), url];
    const { stdout } = await run("h2load", args, { maxBuffer: 1 << 20 });
    // "requests: 41234 total, 41234 started, 41234 done, 41234 succeeded, 0 failed, 0 errored, 0 timeout"
    const requests = /^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/m.exec(
      stdout,
    );
    // "finished in 2.00s, 20617.00 req/s, 1.52MB/s"
    const rate = /^finished in [\d.]+m?s, ([\d.]+) req\/s/m.exec(stdout);
    const status2xx = /^status codes: (\d+) 2xx/m.exec(stdout);
    if (!requests || !rate || !status2xx || Number(requests[4]) > 0 || status2xx[1] !== requests[3]) {
      throw new Error(`${target}: h2load reported failures or output this bench cannot read:\n${stdout}`);
    }
    this.cpu.set(target, (processCpuMicros(pid) - cpuBefore) / Number(requests[3]));
    return 1e6 / Number(rate[1]);
  }

  /** CPU µs per request of the latest `measure` of `target`. */
  lastCpu(target: Target): number {
    return latestFigure(this.cpu, target);
  }
}
