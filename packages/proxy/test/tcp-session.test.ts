import assert from "node:assert/strict";
import { connect, createServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import { AccessLogger } from "../src/access-log/access-logger.ts";
import { ClusterManager } from "../src/cluster/cluster-manager.ts";
import type { BodyBuffer } from "../src/http/http-filter.ts";
import { StatStore } from "../src/stats/stat-store.ts";
import type { NetworkFilter, NetworkFilterCallbacks } from "../src/tcp/network-filter.ts";
import { TcpListener } from "../src/tcp/tcp-listener.ts";

/**
 * A network filter that holds the first downstream chunk for a moment, then upper-cases everything. Like the
 * host's TcpStream, "continue" releases what it held together with the new bytes.
 */
class HoldingFilter implements NetworkFilter {
  private held: Buffer[] = [];
  private first = true;
  readonly events: string[] = [];
  constructor(private readonly cb: NetworkFilterCallbacks) {}
  onNewConnection() {
    return "continue" as const;
  }
  onDownstreamData(data: BodyBuffer, end: boolean) {
    this.events.push(`down ${data.data.length} ${end}`);
    if (this.first) {
      this.first = false;
      this.held.push(data.data);
      setTimeout(() => this.cb.continueReading(), 30);
      return "stop" as const;
    }
    data.data = Buffer.concat([this.drainDownstream(), Buffer.from(data.data.toString().toUpperCase())]);
    return "continue" as const;
  }
  onUpstreamData() {
    return "continue" as const;
  }
  drainDownstream() {
    const out = Buffer.from(Buffer.concat(this.held).toString().toUpperCase());
    this.held = [];
    return out;
  }
  drainUpstream() {
    return Buffer.alloc(0);
  }
  onDownstreamClose() {
    this.events.push("downstream close");
  }
  onUpstreamClose() {
    this.events.push("upstream close");
  }
  onLog() {}
  onDestroy() {}
}

function endpoint(name: string, port: number) {
  return {
    name,
    type: "STATIC" as const,
    connectTimeoutMs: 500,
    endpoints: [{ host: "127.0.0.1", port }],
    dnsFamily: "AUTO" as const,
    dnsRefreshMs: 5000,
    http2: false,
    useDownstreamProtocol: false,
    idleTimeoutMs: 60_000,
    path: `clusters.${name}`,
  };
}

describe("TCP session: held data, resume, connect failure", { timeout: 30_000 }, () => {
  let echo: Server;
  let listener: TcpListener;
  let failing: TcpListener;
  const logs: string[] = [];
  const filters: HoldingFilter[] = [];
  let clusters: ClusterManager;

  before(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const stats = new StatStore();
    clusters = new ClusterManager(
      [endpoint("echo", (echo.address() as { port: number }).port), endpoint("dead", 1)],
      stats,
    );
    await clusters.initialize();
    const logger = new AccessLogger(
      {
        sink: { kind: "stdout" },
        format: {
          kind: "text",
          template: "%UPSTREAM_CLUSTER% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT%\n",
        },
      },
      { stdout: (t) => void logs.push(t), stderr: () => {} },
    );
    const base = { stats, clusters, accessLogs: [logger], bufferLimitBytes: 1 << 20 };
    listener = new TcpListener({
      ...base,
      listener: { name: "tcp", direction: 0 },
      config: {
        statPrefix: "tcp",
        cluster: "echo",
        accessLogs: [],
        idleTimeoutMs: 60_000,
        maxConnectAttempts: 1,
        path: "t",
      },
      filterFactories: [
        (cb) => {
          const f = new HoldingFilter(cb);
          filters.push(f);
          return f;
        },
      ],
    });
    failing = new TcpListener({
      ...base,
      listener: { name: "dead", direction: 0 },
      config: {
        statPrefix: "dead",
        cluster: "dead",
        accessLogs: [],
        idleTimeoutMs: 60_000,
        maxConnectAttempts: 2,
        path: "d",
      },
      filterFactories: [],
    });
    await listener.listen("127.0.0.1", 0);
    await failing.listen("127.0.0.1", 0);
  });

  after(async () => {
    await listener?.close();
    await failing?.close();
    await clusters?.close();
    echo?.close();
  });

  test("a filter holds data, resumes, and changes it; closes reach it", async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(listener.address().port, "127.0.0.1", () => {
        s.write("hello ");
        setTimeout(() => s.write("world"), 5);
      });
      let got = "";
      s.on("data", (d) => {
        got += d;
        if (got.length >= 11) {
          s.end();
          resolve(got);
        }
      });
      s.on("error", reject);
    });
    assert.equal(reply, "HELLO WORLD");
    for (let i = 0; i < 50 && !logs.some((l) => l.startsWith("echo ")); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(
      filters[0]!.events.includes("downstream close") || filters[0]!.events.includes("upstream close"),
    );
    assert.match(logs.find((l) => l.startsWith("echo ")) ?? "", /^echo - 11 11\n$/);
  });

  test("an unreachable cluster closes the client; the log shows UF,URX after max_connect_attempts", async () => {
    await new Promise<void>((resolve, reject) => {
      const s = connect(failing.address().port, "127.0.0.1");
      s.on("close", () => resolve());
      s.on("error", reject);
    });
    for (let i = 0; i < 50 && !logs.some((l) => l.startsWith("dead ")); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(
      logs.find((l) => l.startsWith("dead ")),
      "dead UF,URX 0 0\n",
    );
  });
});
