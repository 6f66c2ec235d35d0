/**
 * TCP through the local data plane: throughput (MB/s) and connection rate (connections/s) through
 * `pwts run`'s tcp_proxy, without and with the tcp-routing network Wasm filter, against a plain `net` pipe
 * (what a developer would write by hand) measured in the same run. Higher is better for these two, so a
 * ratio of 0.8× means 80% of the baseline's rate. The proxy process's CPU time per MB and per connection
 * (from the same samples) is the figure least disturbed by other load on the machine.
 *
 * Client (this process), upstream and each proxy run in their own processes on 127.0.0.1. The upstream
 * counts what it receives and, at the client's half-close, answers the count and closes: a sample ends only
 * when every byte went through. Bytes and connections per sample are fixed; each sample has a deadline.
 */
import { connect } from "node:net";
import { join } from "node:path";
import { staticCluster } from "@proxy-wasm-ts/test-support/envoy-config";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { defineSuite, figureCases, latestFigure } from "./benchmark.ts";
import { processCpuMicros } from "./process-cpu.ts";
import { ProcessTargets } from "./process-targets.ts";

const STREAM_CONNECTIONS = 4;
const BYTES_PER_STREAM = 24 * 2 ** 20;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const RATE_CONNECTIONS = 800;
const RATE_CONCURRENCY = 16;
/** No sample may take longer: a stuck connection fails the suite instead of hanging `npm run bench`. */
const SAMPLE_DEADLINE_MS = 60_000;
const ROOT = new URL("..", import.meta.url).pathname;
const TCP_ROUTING_DIR = join(ROOT, "plugins/tcp-routing");

// Plain JavaScript, each server in its own process (server-process.ts).
const UPSTREAM_JS = `
import { createServer } from "node:net";
const server = createServer({ allowHalfOpen: true }, (socket) => {
  let received = 0;
  socket.on("data", (d) => { received += d.length; });
  socket.on("end", () => socket.end(received + "\\n"));
  socket.on("error", () => socket.destroy());
});
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;

// The baseline: a byte pipe written with node:net alone (half-closes follow, as pipe() ends its target).
const PIPE_JS = `
import { connect, createServer } from "node:net";
const upstreamPort = Number(process.argv[1]);
const server = createServer({ allowHalfOpen: true }, (down) => {
  const up = connect({ host: "127.0.0.1", port: upstreamPort, allowHalfOpen: true });
  down.pipe(up);
  up.pipe(down);
  down.on("error", () => up.destroy());
  up.on("error", () => down.destroy());
});
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;

/** A TCP listener: optionally tcp-routing (its shipped configuration), then tcp_proxy; every cluster is the upstream. */
function proxyYaml(upstreamPort: number, tcpRoutingWasm: string | undefined): string {
  const wasmFilter = tcpRoutingWasm
    ? `
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            name: tcp-routing
            root_id: tcp-routing
            vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${tcpRoutingWasm} } } }
            configuration:
              "@type": type.googleapis.com/google.protobuf.StringValue
              value: '{"rule": "parity", "even_cluster": "egress-router1", "odd_cluster": "egress-router2"}'`
    : "";
  return `
static_resources:
  listeners:
  - name: bench
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:${wasmFilter}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: bench
          cluster: default-router
  clusters:${["default-router", "egress-router1", "egress-router2"].map((n) => staticCluster(n, upstreamPort)).join("")}
`;
}

type Target = "pipe" | "proxy" | "routing";
const targets = new ProcessTargets<Target>();
const lastCpuPerMB = new Map<Target, number>();
const lastCpuPerConnection = new Map<Target, number>();

/** One connection: writes `bytes` (with backpressure), half-closes, resolves when the upstream's count is back. */
function transfer(port: number, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let answer = "";
    let left = bytes;
    const write = () => {
      while (left > 0) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", write);
      }
      socket.end();
    };
    socket.once("connect", write);
    socket.setEncoding("utf8").on("data", (d: string) => {
      answer += d;
    });
    socket.once("end", () => {
      socket.end();
      if (answer.trim() === String(bytes)) resolve();
      else reject(new Error(`the upstream counted ${JSON.stringify(answer)} of ${bytes} bytes`));
    });
    socket.once("error", reject);
  });
}

/** Runs `work` under the sample deadline and returns its wall seconds and the target's CPU µs. */
async function timed(
  target: Target,
  work: () => Promise<unknown>,
): Promise<{ seconds: number; cpu: number }> {
  const pid = targets.pid(target);
  const cpuBefore = processCpuMicros(pid);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${target}: sample over ${SAMPLE_DEADLINE_MS} ms`)),
      SAMPLE_DEADLINE_MS,
    );
  });
  try {
    await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
  return { seconds: (performance.now() - started) / 1000, cpu: processCpuMicros(pid) - cpuBefore };
}

/** MB/s (10^6 bytes) over STREAM_CONNECTIONS parallel uploads. */
async function throughput(target: Target): Promise<number> {
  const port = targets.port(target);
  const total = STREAM_CONNECTIONS * BYTES_PER_STREAM;
  const { seconds, cpu } = await timed(target, () =>
    Promise.all(Array.from({ length: STREAM_CONNECTIONS }, () => transfer(port, BYTES_PER_STREAM))),
  );
  lastCpuPerMB.set(target, cpu / 1000 / (total / 1e6));
  return total / 1e6 / seconds;
}

/** Connections/s: RATE_CONNECTIONS short connections (5 bytes up, the count back), RATE_CONCURRENCY at a time. */
async function connectionRate(target: Target): Promise<number> {
  const port = targets.port(target);
  let next = 0;
  const worker = async () => {
    while (next < RATE_CONNECTIONS) {
      next++;
      await transfer(port, 5);
    }
  };
  const { seconds, cpu } = await timed(target, () =>
    Promise.all(Array.from({ length: RATE_CONCURRENCY }, worker)),
  );
  lastCpuPerConnection.set(target, cpu / RATE_CONNECTIONS);
  return RATE_CONNECTIONS / seconds;
}

const LABEL: Record<Target, string> = {
  pipe: "baseline node:net pipe",
  proxy: "pwts tcp_proxy",
  routing: "pwts tcp_proxy + tcp-routing",
};
/** Each target's figures compare with: the pipe for the bare proxy, the bare proxy for the filter. */
const COMPARED_WITH: Record<Target, Target | undefined> = {
  pipe: undefined,
  proxy: "pipe",
  routing: "proxy",
};
const TARGETS: Target[] = ["pipe", "proxy", "routing"];

const TARGET_SET = { targets: TARGETS, label: LABEL, comparedWith: COMPARED_WITH };

export default defineSuite({
  name: "tcp",
  runs: 7,
  description: `TCP through pwts run's tcp_proxy, without and with the tcp-routing network Wasm filter, vs a node:net pipe: MB/s over ${STREAM_CONNECTIONS} parallel ${BYTES_PER_STREAM / 2 ** 20} MiB uploads, connections/s over ${RATE_CONNECTIONS} short connections (${RATE_CONCURRENCY} at a time), and the proxy process's CPU per MB and per connection; higher MB/s and connections/s are better.`,
  async setup() {
    const wasm = join(TCP_ROUTING_DIR, "build/plugin.wasm");
    await buildPlugin(TCP_ROUTING_DIR); // built unless up to date
    const upstreamPort = await targets.helper(UPSTREAM_JS);
    await targets.server("pipe", PIPE_JS, [String(upstreamPort)]);
    for (const [target, filter] of [
      ["proxy", undefined],
      ["routing", wasm],
    ] as const)
      await targets.proxy(target, proxyYaml(upstreamPort, filter));
  },
  teardown: () => targets.stop(),
  cases: [
    ...figureCases(TARGET_SET, "MB/s", "MB/s", throughput),
    ...figureCases(TARGET_SET, "CPU per MB", "CPU ms/MB", (t) => latestFigure(lastCpuPerMB, t)),
    ...figureCases(TARGET_SET, "connections/s", "conn/s", connectionRate),
    ...figureCases(TARGET_SET, "CPU per connection", "CPU µs/conn", (t) =>
      latestFigure(lastCpuPerConnection, t),
    ),
  ],
});
