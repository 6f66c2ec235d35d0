/**
 * One downstream TCP connection through network filters to `tcp_proxy`: the upstream cluster comes from the
 * `envoy.tcp_proxy.cluster` filter state (set by a plugin) or the configured cluster; bytes flow both ways
 * through the filters; half-closes are propagated.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { UpstreamCluster } from "../cluster/upstream-cluster.ts";
import { FilterIteration, type FilterStage, type IterationSink } from "../http/filter-iteration.ts";
import type { BodyBuffer, FilterStatus } from "../http/http-filter.ts";
import { connectionFacts } from "../listener/connection-facts.ts";
import { formatAddress, StreamInfo } from "../stream-info.ts";
import type { NetworkFilter, NetworkFilterCallbacks } from "./network-filter.ts";
import type { TcpListenerContext } from "./tcp-listener-context.ts";

/** The filter-state key Envoy's tcp_proxy reads to override its cluster. */
export const TCP_PROXY_CLUSTER_KEY = "envoy.tcp_proxy.cluster";

const EMPTY = Buffer.alloc(0);

// Stages and sinks as small classes (no per-connection closures); a TCP iteration has no headers.
class ReadStage implements FilterStage {
  constructor(private readonly filter: NetworkFilter) {}
  headers(): FilterStatus {
    return "continue";
  }
  data(body: BodyBuffer, endStream: boolean): FilterStatus {
    return this.filter.onDownstreamData(body, endStream);
  }
  drain(): Buffer {
    return this.filter.drainDownstream();
  }
}

class WriteStage implements FilterStage {
  constructor(private readonly filter: NetworkFilter) {}
  headers(): FilterStatus {
    return "continue";
  }
  data(body: BodyBuffer, endStream: boolean): FilterStatus {
    return this.filter.onUpstreamData(body, endStream);
  }
  drain(): Buffer {
    return this.filter.drainUpstream();
  }
}

class UpstreamSink implements IterationSink {
  constructor(private readonly session: TcpSession) {}
  headers(): void {}
  data(chunk: Buffer, endStream: boolean): void {
    this.session.sendUpstream(chunk, endStream);
  }
}

class DownstreamSink implements IterationSink {
  constructor(private readonly session: TcpSession) {}
  headers(): void {}
  data(chunk: Buffer, endStream: boolean): void {
    this.session.sendDownstream(chunk, endStream);
  }
}

export class TcpSession implements NetworkFilterCallbacks {
  readonly streamInfo: StreamInfo;
  private readonly filters: NetworkFilter[];
  private readonly readPath: FilterIteration;
  private readonly writePath: FilterIteration;
  private upstream: Socket | undefined;
  private pendingUpstream: Buffer[] = [];
  private pendingUpstreamEnd = false;
  private newConnectionIndex = 0;
  private connecting = false;
  private closed = false;
  private downstreamClosed = false;
  private upstreamClosed = false;
  private cluster: UpstreamCluster | undefined;
  private attempts = 0;

  constructor(
    private readonly ctx: TcpListenerContext,
    private readonly downstream: Socket,
    connectionId: number,
  ) {
    this.streamInfo = new StreamInfo(
      connectionId,
      formatAddress(downstream.remoteAddress, downstream.remotePort),
      formatAddress(downstream.localAddress, downstream.localPort),
      ctx.listener,
    );
    this.streamInfo.setConnectionFacts(connectionFacts(downstream));
    this.filters = ctx.filterFactories.map((make) => make(this));
    const limit = ctx.bufferLimitBytes;
    this.readPath = new FilterIteration(
      this.filters.map((f) => new ReadStage(f)),
      new UpstreamSink(this),
      limit,
      this,
    );
    this.writePath = new FilterIteration(
      this.filters.map((f) => new WriteStage(f)),
      new DownstreamSink(this),
      limit,
      this,
    );
    this.readPath.headers([], false);
    this.writePath.headers([], false);
  }

  start(): void {
    const d = this.downstream;
    d.setNoDelay(true);
    d.on("data", (chunk: Buffer) => {
      this.streamInfo.bytesReceived += chunk.length;
      this.readPath.data(chunk, false);
    });
    d.on("end", () => this.readPath.data(EMPTY, true));
    d.on("error", () => {});
    d.on("close", () => {
      if (!this.downstreamClosed) {
        this.downstreamClosed = true;
        for (const f of this.filters) f.onDownstreamClose("remote");
      }
      this.upstream?.destroy();
      this.finish();
    });
    this.runNewConnection();
  }

  private runNewConnection(): void {
    for (; this.newConnectionIndex < this.filters.length; this.newConnectionIndex++) {
      if (this.closed) return;
      const status = this.filters[this.newConnectionIndex]!.onNewConnection();
      if (status === "stop") {
        this.newConnectionIndex++;
        return;
      }
    }
    this.connectUpstream();
  }

  continueReading(): void {
    if (
      !this.upstream &&
      !this.connecting &&
      this.newConnectionIndex <= this.filters.length &&
      !this.closed
    ) {
      this.runNewConnection();
      return;
    }
    this.readPath.resume();
  }

  continueWriting(): void {
    this.writePath.resume();
  }

  close(): void {
    this.streamInfo.connectionTerminationDetails ||= "closed by filter";
    this.downstream.destroy();
    this.upstream?.destroy();
  }

  private pickCluster(): UpstreamCluster | undefined {
    const state = this.streamInfo.filterState.get(TCP_PROXY_CLUSTER_KEY);
    const cfg = this.ctx.config;
    let name = cfg.cluster;
    if (state !== undefined) name = Buffer.from(state).toString("utf8");
    else if (cfg.weightedClusters) {
      const total = cfg.weightedClusters.reduce((a, c) => a + c.weight, 0);
      let pick = Math.floor(Math.random() * total);
      for (const c of cfg.weightedClusters) {
        if (pick < c.weight) {
          name = c.name;
          break;
        }
        pick -= c.weight;
      }
    }
    this.streamInfo.upstreamCluster = name;
    return this.ctx.clusters.get(name);
  }

  private connectUpstream(): void {
    if (this.closed) return;
    const cluster = this.pickCluster();
    if (!cluster) {
      this.streamInfo.setFlag("NC");
      this.closeDownstream();
      return;
    }
    this.cluster = cluster;
    const host = cluster.pickHost();
    if (!host) {
      this.streamInfo.setFlag("UH");
      this.closeDownstream();
      return;
    }
    this.streamInfo.upstreamHost = host.label;
    this.attempts++;
    this.connecting = true;
    const tls = cluster.tlsOptions();
    const socket = tls
      ? tlsConnect({ host: host.ip, port: host.port, ...tls })
      : netConnect({ host: host.ip, port: host.port, allowHalfOpen: true });
    this.upstream = socket;
    socket.setNoDelay(true);
    socket.setTimeout(cluster.config.connectTimeoutMs, () =>
      socket.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })),
    );
    const onConnected = () => {
      this.connecting = false;
      socket.setTimeout(this.ctx.config.idleTimeoutMs, () => {
        this.streamInfo.connectionTerminationDetails = "idle timeout";
        this.close();
      });
      cluster.inc("upstream_cx_total");
      this.streamInfo.upstreamLocalAddress = formatAddress(socket.localAddress, socket.localPort);
      for (const chunk of this.pendingUpstream) socket.write(chunk);
      this.pendingUpstream = [];
      if (this.pendingUpstreamEnd) socket.end();
    };
    socket.once(tls ? "secureConnect" : "connect", onConnected);
    socket.on("data", (chunk: Buffer) => {
      this.writePath.data(chunk, false);
    });
    socket.on("end", () => this.writePath.data(EMPTY, true));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (this.connecting) {
        this.connecting = false;
        cluster.inc("upstream_cx_connect_fail");
        this.streamInfo.upstreamTransportFailureReason = err.code ?? err.message;
        if (this.attempts < this.ctx.config.maxConnectAttempts && !this.closed) {
          this.upstream = undefined;
          socket.removeAllListeners("close");
          this.connectUpstream();
          return;
        }
        this.streamInfo.setFlag("UF");
        this.streamInfo.setFlag("URX");
        this.closeDownstream();
      }
    });
    socket.on("close", () => {
      if (this.upstream !== socket) return;
      if (!this.upstreamClosed) {
        this.upstreamClosed = true;
        for (const f of this.filters) f.onUpstreamClose("remote");
      }
      if (!this.downstream.writableEnded) this.downstream.end();
    });
  }

  private closeDownstream(): void {
    this.downstream.destroy();
  }

  /** Over the buffer limit while a filter holds data: the connection is closed. */
  overflow(): void {
    this.close();
  }

  sendUpstream(chunk: Buffer, end: boolean): void {
    const u = this.upstream;
    if (!u || this.connecting) {
      if (chunk.length) this.pendingUpstream.push(chunk);
      if (end) this.pendingUpstreamEnd = true;
      return;
    }
    if (u.destroyed) return;
    if (chunk.length && !u.write(chunk)) {
      this.downstream.pause();
      u.once("drain", () => this.downstream.resume());
    }
    if (end) u.end();
  }

  sendDownstream(chunk: Buffer, end: boolean): void {
    const d = this.downstream;
    if (d.destroyed) return;
    if (chunk.length) {
      this.streamInfo.bytesSent += chunk.length;
      if (!d.write(chunk)) {
        this.upstream?.pause();
        d.once("drain", () => this.upstream?.resume());
      }
    }
    if (end) d.end();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.streamInfo.finish();
    this.readPath.aborted = true;
    this.writePath.aborted = true;
    const { stats, config } = this.ctx;
    stats.gauge(`tcp.${config.statPrefix}.downstream_cx_active`).add(-1);
    if (this.cluster) {
      stats.counter(this.cluster.statName("upstream_cx_rx_bytes_total")).inc(this.streamInfo.bytesSent);
      stats.counter(this.cluster.statName("upstream_cx_tx_bytes_total")).inc(this.streamInfo.bytesReceived);
    }
    for (const log of this.ctx.accessLogs) log.log(this.streamInfo);
    for (const f of this.filters) f.onLog();
    for (const f of this.filters) f.onDestroy();
  }
}
