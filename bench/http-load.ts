/**
 * HTTP load against the processes of a suite (the proxy and chain suites): a fixed-answer upstream, and
 * autocannon runs that report µs per request and keep each target's latest p99 and CPU µs per request.
 */
import autocannon from "autocannon";
import { latestFigure } from "./benchmark.ts";
import { processCpuMicros } from "./process-cpu.ts";
import type { ProcessTargets } from "./process-targets.ts";

export const CONNECTIONS = 16;
export const DURATION_S = 2;

/**
 * An upstream (plain JavaScript, run in its own process) that answers every request with `body` as
 * `contentType`, after reading the request.
 */
export function fixedResponseUpstreamJs(body: string, contentType: string): string {
  return `
import { createServer } from "node:http";
const body = Buffer.from(${JSON.stringify(body)});
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": ${JSON.stringify(contentType)}, "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;
}

export class HttpLoad<Target extends string> {
  private readonly p99 = new Map<Target, number>();
  private readonly cpu = new Map<Target, number>();

  constructor(
    private readonly targets: ProcessTargets<Target>,
    private readonly request: { path: string; headers?: Record<string, string> },
  ) {}

  /**
   * One autocannon run against `target`; returns wall µs per request and records its p99 and the target
   * process's CPU µs per request (which other load on the machine disturbs far less than wall time).
   */
  async measure(target: Target): Promise<number> {
    const pid = this.targets.pid(target);
    const cpuBefore = processCpuMicros(pid);
    const result = await autocannon({
      url: `http://127.0.0.1:${this.targets.port(target)}${this.request.path}`,
      ...(this.request.headers ? { headers: this.request.headers } : {}),
      connections: CONNECTIONS,
      duration: DURATION_S,
    });
    if (result.errors > 0 || result.non2xx > 0 || result.requests.total === 0) {
      throw new Error(
        `${target}: ${result.errors} errors, ${result.non2xx} non-2xx of ${result.requests.total}`,
      );
    }
    this.p99.set(target, result.latency.p99);
    this.cpu.set(target, (processCpuMicros(pid) - cpuBefore) / result.requests.total);
    return 1e6 / result.requests.average;
  }

  /** CPU µs per request of the latest `measure` of `target`. */
  lastCpu(target: Target): number {
    return latestFigure(this.cpu, target);
  }

  /** p99 (ms) of the latest `measure` of `target`. */
  lastP99(target: Target): number {
    return latestFigure(this.p99, target);
  }
}
