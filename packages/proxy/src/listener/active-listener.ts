/**
 * A listener with Envoy's listener stage in front of its filter chains (source/common/listener_manager:
 * ActiveTcpSocket runs the listener filters, ActiveStreamListenerBase::newConnection finds the filter chain,
 * creates the chain's transport socket and hands the connection to the chain's network filters). A connection
 * no chain matches is closed, counted as `listener.<address>.no_filter_chain_match` and access-logged with NR
 * and `filter_chain_not_found`, as in Envoy.
 */
import { createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { AccessLogger } from "../access-log/access-logger.ts";
import type { FilterChainConfig, ListenerFilterChains } from "../config/filter-chain-config.ts";
import type { ListenerIdentity } from "../config/model.ts";
import type { StatStore } from "../stats/stat-store.ts";
import { formatAddress, newConnectionId, StreamInfo } from "../stream-info.ts";
import { DownstreamSslInfo } from "../tls/downstream-ssl-info.ts";
import { DownstreamTlsContext } from "../tls/downstream-tls-context.ts";
import { recordConnectionFacts } from "./connection-facts.ts";
import { type ConnectionMatchInput, FilterChainManager } from "./filter-chain-manager.ts";
import { inspectClientHello } from "./tls-inspector.ts";

/** What serves the connections of one filter chain (its HTTP connection manager or tcp_proxy). */
export interface FilterChainHandler {
  accept(socket: Socket): void;
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface ActiveListenerChain {
  config: FilterChainConfig;
  handler: FilterChainHandler;
}

export interface ActiveListenerOptions {
  listener: ListenerIdentity;
  config: ListenerFilterChains;
  chains: ActiveListenerChain[];
  defaultChain?: ActiveListenerChain;
  stats: StatStore;
  accessLogs: AccessLogger[];
}

interface ChainRuntime {
  handler: FilterChainHandler;
  tls?: DownstreamTlsContext;
}

export class ActiveListener {
  private readonly server: Server;
  private readonly manager: FilterChainManager;
  private readonly runtime = new Map<FilterChainConfig, ChainRuntime>();
  /** Each connection's outermost socket (the TLS socket once there is one). */
  private readonly connections = new Set<Socket>();
  private onEmpty: (() => void) | undefined;
  private statPrefix = "listener.";

  constructor(private readonly o: ActiveListenerOptions) {
    const all = o.defaultChain ? [...o.chains, o.defaultChain] : o.chains;
    for (const c of all) {
      const tls = c.config.tls;
      this.runtime.set(c.config, {
        handler: c.handler,
        ...(tls ? { tls: new DownstreamTlsContext(tls) } : {}),
      });
    }
    this.manager = new FilterChainManager(
      o.chains.map((c) => c.config),
      o.defaultChain?.config,
    );
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.onAccept(socket));
  }

  private track(socket: Socket, previous?: Socket): void {
    if (previous) this.connections.delete(previous);
    this.connections.add(socket);
    socket.once("close", () => {
      this.connections.delete(socket);
      if (this.connections.size === 0) this.onEmpty?.();
    });
  }

  private counter(name: string): void {
    this.o.stats.counter(`${this.statPrefix}${name}`).inc();
  }

  /** ActiveTcpSocket: the listener filters first (only tls_inspector here), then newConnection. */
  private onAccept(socket: Socket): void {
    this.track(socket);
    socket.on("error", () => socket.destroy());
    if (!this.o.config.tlsInspector) {
      this.newConnection(socket, {
        serverName: "",
        transportProtocol: "raw_buffer",
        applicationProtocols: [],
      });
      return;
    }
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (
      found: Pick<ConnectionMatchInput, "serverName" | "transportProtocol" | "applicationProtocols">,
    ) => {
      done = true;
      clearTimeout(timer);
      socket.removeListener("data", onData);
      socket.removeListener("end", onEnd);
      socket.pause();
      // The bytes were only looked at: the chain's transport socket reads them again (Envoy's MSG_PEEK).
      if (chunks.length > 0) socket.unshift(Buffer.concat(chunks));
      this.newConnection(socket, found);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const hello = inspectClientHello(Buffer.concat(chunks));
      const stats = this.o.stats;
      if (hello.kind === "need-more") return;
      if (hello.kind === "too-large") {
        stats.counter("tls_inspector.client_hello_too_large").inc();
        done = true;
        clearTimeout(timer);
        socket.destroy();
        return;
      }
      if (hello.kind === "not-tls") {
        stats.counter("tls_inspector.tls_not_found").inc();
        finish({ serverName: "", transportProtocol: "raw_buffer", applicationProtocols: [] });
        return;
      }
      stats.counter(hello.serverName ? "tls_inspector.sni_found" : "tls_inspector.sni_not_found").inc();
      stats.counter("tls_inspector.tls_found").inc();
      stats
        .counter(
          hello.applicationProtocols.length > 0 ? "tls_inspector.alpn_found" : "tls_inspector.alpn_not_found",
        )
        .inc();
      finish({
        serverName: hello.serverName,
        transportProtocol: "tls",
        applicationProtocols: hello.applicationProtocols,
      });
    };
    // A client that closes before its ClientHello is complete never reaches a filter chain.
    const onEnd = () => {
      if (!done) socket.destroy();
    };
    const timeoutMs = this.o.config.listenerFiltersTimeoutMs;
    // ActiveTcpSocket::onTimeout: close, or go on with what is known (continue_on_listener_filters_timeout).
    const timer = setTimeout(
      () => {
        if (done) return;
        this.counter("downstream_pre_cx_timeout");
        if (this.o.config.continueOnListenerFiltersTimeout)
          finish({ serverName: "", transportProtocol: "raw_buffer", applicationProtocols: [] });
        else {
          done = true;
          socket.destroy();
        }
      },
      timeoutMs || 2 ** 31 - 1,
    );
    timer.unref();
    socket.on("data", onData);
    socket.on("end", onEnd);
  }

  /** ActiveStreamListenerBase::newConnection. */
  private newConnection(
    socket: Socket,
    found: Pick<ConnectionMatchInput, "serverName" | "transportProtocol" | "applicationProtocols">,
  ): void {
    const chain = this.manager.find({
      destinationPort: socket.localPort ?? 0,
      destinationIp: socket.localAddress ?? "",
      sourceIp: socket.remoteAddress ?? "",
      sourcePort: socket.remotePort ?? 0,
      ...found,
    });
    if (!chain) {
      this.counter("no_filter_chain_match");
      const info = new StreamInfo(
        newConnectionId(),
        formatAddress(socket.remoteAddress, socket.remotePort),
        formatAddress(socket.localAddress, socket.localPort),
        this.o.listener,
      );
      info.requestedServerName = found.serverName;
      info.setFlag("NR");
      info.responseCodeDetails = "filter_chain_not_found";
      info.finish();
      for (const log of this.o.accessLogs) log.log(info);
      socket.destroy();
      return;
    }
    const rt = this.runtime.get(chain)!;
    if (!rt.tls) {
      socket.removeAllListeners("error");
      recordConnectionFacts(socket, { requestedServerName: found.serverName, ssl: undefined });
      rt.handler.accept(socket);
      socket.resume();
      return;
    }
    // What the client offered is known when the tls_inspector read it; otherwise startTls looks.
    this.startTls(
      socket,
      rt,
      rt.tls,
      found.serverName,
      found.transportProtocol === "tls" ? found.applicationProtocols : undefined,
    );
  }

  /**
   * The chain's TLS transport socket. ALPN is chosen as Envoy's ServerContextImpl::alpnSelectCallback does:
   * the first of alpn_protocols the client offered, or no ALPN at all (SSL_TLSEXT_ERR_NOACK) when none is,
   * where node's own selection would end the handshake with a no_application_protocol alert. So the
   * client's offer is read first (peeked, as the tls_inspector does) and node is given just the choice.
   */
  private startTls(
    socket: Socket,
    rt: ChainRuntime,
    context: DownstreamTlsContext,
    serverName: string,
    offered: string[] | undefined,
  ): void {
    if (context.alpn && offered === undefined) {
      peekClientHello(socket, (protocols) => this.startTls(socket, rt, context, serverName, protocols));
      return;
    }
    const selected = context.alpn?.find((p) => offered?.includes(p));
    const tls = new TLSSocket(socket, context.socketOptions(selected));
    this.track(tls, socket);
    tls.on("error", (err: NodeJS.ErrnoException) => {
      this.counter(`ssl.${context.handshakeFailure(err)}`);
      tls.destroy();
      socket.destroy();
    });
    tls.once("secure", () => {
      const refusal = context.refusal(tls);
      if (refusal) {
        this.counter(`ssl.${refusal}`);
        tls.destroy();
        return;
      }
      this.counter("ssl.handshake");
      if (context.requestsClientCertificate && !tls.getPeerX509Certificate())
        this.counter("ssl.no_certificate");
      tls.removeAllListeners("error");
      // What node's own tls.Server does once a handshake is done (onServerSocketSecure); node:http2 waits for it.
      (tls as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
      recordConnectionFacts(tls, { requestedServerName: serverName, ssl: new DownstreamSslInfo(tls) });
      rt.handler.accept(tls);
    });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off("error", onError);
        // Envoy names a listener's stats after its address unless stat_prefix says otherwise.
        const a = this.address();
        this.statPrefix = `listener.${a.host}_${a.port}.`;
        resolve();
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("listener is not bound");
    return { host: a.address, port: a.port };
  }

  private handlers(): FilterChainHandler[] {
    return [...new Set([...this.runtime.values()].map((r) => r.handler))];
  }

  /** Stops accepting, lets the chains drain their connections, and resets what is left after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    this.server.close();
    await Promise.all(this.handlers().map((h) => h.drain(timeoutMs)));
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          for (const s of this.connections) s.destroy();
          resolve();
        }, timeoutMs);
        this.onEmpty = () => {
          clearTimeout(deadline);
          resolve();
        };
      });
    }
  }

  async close(): Promise<void> {
    this.server.close();
    for (const s of this.connections) s.destroy();
    await Promise.all(this.handlers().map((h) => h.close()));
  }
}

/** Reads a connection's first bytes until its ClientHello's ALPN offer is known, then puts them back. */
function peekClientHello(socket: Socket, done: (protocols: string[]) => void): void {
  const chunks: Buffer[] = [];
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    const hello = inspectClientHello(Buffer.concat(chunks));
    if (hello.kind === "need-more") return;
    socket.removeListener("data", onData);
    socket.removeListener("end", onEnd);
    socket.pause();
    socket.unshift(Buffer.concat(chunks));
    done(hello.kind === "tls" ? hello.applicationProtocols : []);
  };
  const onEnd = () => socket.destroy();
  socket.on("data", onData);
  socket.on("end", onEnd);
  // A listener filter may have paused it.
  socket.resume();
}
