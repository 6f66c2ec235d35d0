/**
 * An HTTP listener (http_connection_manager) with Envoy's two codecs: HTTP/1.1 on node:http and HTTP/2 (h2c,
 * prior knowledge) on node:http2. codec_type picks one, or AUTO picks per connection from its first bytes as
 * Envoy does (conn_manager_utility.cc determineNextProtocol: the HTTP/2 preface `PRI * HTTP/2`, else HTTP/1.1).
 * Both codecs feed the same HttpStream (connection manager, filters, router).
 * HTTP/1 protocol errors get Envoy's codec answers
 * (400 Bad Request, 431 for headers over max_request_headers_kb) and are access-logged with DPE.
 *
 * Envoy's timers (conn_manager_impl.cc) are kept as timestamps and checked by one periodic sweep per
 * listener, not one timer per stream: stream_idle_timeout and request_timeout per stream, idle_timeout per
 * connection. Before a request's headers are complete there is no stream object here, so node's own
 * checker (headersTimeout / requestTimeout) watches that phase, measured, like Envoy's stream timers, from
 * the request's first byte, and this listener gives Envoy's answer when it fires.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import {
  createServer as createHttp2Server,
  type IncomingHttpHeaders as Http2Headers,
  type Http2Server,
  type Http2Session,
  constants as http2Constants,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { ActiveList } from "../active-list.ts";
import { connectionFacts } from "../listener/connection-facts.ts";
import { formatAddress, newConnectionId, StreamInfo } from "../stream-info.ts";
import type { HttpListenerContext } from "./http-listener-context.ts";
import { type ConnectionInfo, HttpStream } from "./http-stream.ts";
import { Http2Downstream } from "./http2-downstream.ts";
import { LOCAL_REPLIES, type LocalReplySpec } from "./local-reply.ts";
import { downstreamPeer } from "./request-headers.ts";

/** Envoy's default delayed_close_timeout: after its drain sequence an HTTP/1 connection closes this much later. */
const DELAYED_CLOSE_MS = 1000;
/** Node's request timers take 32-bit milliseconds; longer timeouts (weeks) are as good as none here. */
const MAX_NODE_TIMEOUT_MS = 2 ** 31 - 1;

function connectionInfo(socket: Socket): ConnectionInfo {
  return {
    id: newConnectionId(),
    remote: formatAddress(socket.remoteAddress, socket.remotePort),
    local: formatAddress(socket.localAddress, socket.localPort),
    peer: downstreamPeer(socket.remoteAddress),
    socket,
    facts: connectionFacts(socket),
    streams: 0,
    current: undefined,
    idleSinceMs: performance.now(),
    bytesReadAtIdle: 0,
    closeAtMs: 0,
  };
}

/** The smallest of the timeouts that are on (> 0), or 0. */
function minTimeout(...timeouts: number[]): number {
  let min = 0;
  for (const t of timeouts) if (t > 0 && (min === 0 || t < min)) min = t;
  return min;
}
const connections = new WeakMap<Socket, ConnectionInfo>();

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_NO_ERROR } = http2Constants;

/** Http2::CLIENT_MAGIC_PREFIX, what Envoy's AUTO codec looks for at the start of a connection. */
const HTTP2_MAGIC_PREFIX = Buffer.from("PRI * HTTP/2", "latin1");

/** A codec-level reply written straight to the socket (no request object exists for a parse error). */
function rawReply(spec: LocalReplySpec, serverName: string): string {
  const body = spec.body;
  return (
    `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status] ?? ""}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\ncontent-type: text/plain\r\n` +
    `date: ${new Date().toUTCString()}\r\nserver: ${serverName}\r\nconnection: close\r\n\r\n${body}`
  );
}

export class HttpListener {
  readonly server: Server;
  /** The HTTP/2 codec (not listening itself: connections are handed to it), unless codec_type is HTTP1. */
  private readonly http2Server: Http2Server | undefined;
  private readonly http2Sessions = new Set<ServerHttp2Session>();
  private readonly sessionConnections = new WeakMap<Http2Session, ConnectionInfo>();
  /** The connection being handed to the HTTP/2 server (its `session` event comes synchronously). */
  private handingOver: ConnectionInfo | undefined;
  private readonly sockets = new ActiveList<Socket>();
  private draining = false;
  /** Connections come from a listener (filter chains, TLS), not from this server's own socket. */
  private handOff = false;
  private readonly sweepTimer: NodeJS.Timeout | undefined;

  constructor(readonly ctx: HttpListenerContext) {
    const config = ctx.config;
    const routeIdleTimeouts: number[] = [];
    for (const vh of ctx.routeTable.config.virtualHosts)
      for (const r of vh.routes)
        if (r.action.kind === "route" && r.action.route.idleTimeoutMs)
          routeIdleTimeouts.push(r.action.route.idleTimeoutMs);
    const sweepOver = minTimeout(
      config.streamIdleTimeoutMs,
      config.requestTimeoutMs,
      config.requestHeadersTimeoutMs,
      config.idleTimeoutMs,
      ...routeIdleTimeouts,
    );
    // A quarter of the shortest timeout, within 10 ms .. 1 s.
    const sweepMs = sweepOver > 0 ? Math.min(1000, Math.max(10, Math.floor(sweepOver / 4))) : 0;
    // Before the headers are complete, the first of request_headers_timeout, request_timeout and
    // stream_idle_timeout (header bytes are no stream activity in Envoy) ends the request; onClientError tells
    // which. After them node's requestTimeout still covers a body that does not arrive.
    const beforeHeaders = minTimeout(
      config.requestHeadersTimeoutMs,
      config.requestTimeoutMs,
      config.streamIdleTimeoutMs,
    );
    this.server = createServer(
      {
        maxHeaderSize: config.maxRequestHeadersKb * 1024,
        requestTimeout: Math.min(config.requestTimeoutMs, MAX_NODE_TIMEOUT_MS),
        headersTimeout: Math.min(beforeHeaders, MAX_NODE_TIMEOUT_MS),
        connectionsCheckingInterval: sweepMs || 30_000,
        // No "Keep-Alive: timeout=" header (Envoy sends none); idle_timeout is Envoy's, kept by the sweep.
        keepAliveTimeout: 0,
        joinDuplicateHeaders: false,
        // A missing Host is the stream's to answer (Envoy's 400 missing_host_header, access-logged).
        requireHostHeader: false,
        noDelay: true,
      },
      (req, res) => this.onRequest(req, res),
    );
    // Requests with Expect come here too: the stream answers 100 Continue itself or leaves it to the
    // upstream (proxy_100_continue), and passes other expectations on instead of node's 417.
    this.server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    this.server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) =>
      this.onRequest(req, res),
    );
    // Counted and limited by the stream itself (Envoy's max_headers_count answers 431, node would truncate).
    this.server.maxHeadersCount = 0;
    this.server.on("connection", (socket: Socket) => {
      connections.set(socket, connectionInfo(socket));
      const entry = this.sockets.add(socket);
      ctx.listenerStats.cxTotal.inc();
      ctx.listenerStats.cxActive.add(1);
      socket.on("close", () => {
        this.sockets.remove(entry);
        ctx.listenerStats.cxActive.add(-1);
      });
    });
    if (config.codecType !== "HTTP1") {
      this.http2Server = this.createHttp2Server();
      // node:http's own connection listener (which starts its HTTP/1 parser) runs only for HTTP/1
      // connections; the codec is chosen once the connection's first bytes are in.
      const http1Connection = this.server.listeners("connection")[0] as (socket: Socket) => void;
      this.server.removeListener("connection", http1Connection);
      this.server.on("connection", (socket: Socket) => {
        if (config.codecType === "HTTP2") {
          this.startHttp2(socket);
          return;
        }
        // determineNextProtocol: the protocol TLS negotiated (ALPN) decides before any byte is looked at.
        const alpn = (socket as TLSSocket).alpnProtocol;
        if (alpn === "h2") {
          this.startHttp2(socket);
          return;
        }
        if (alpn === "http/1.1") {
          http1Connection.call(this.server, socket);
          return;
        }
        // Until a codec owns the socket, its errors (a reset before any byte) are this listener's to absorb.
        const onEarlyError = () => socket.destroy();
        socket.on("error", onEarlyError);
        socket.once("data", (chunk: Buffer) => {
          // conn_manager_utility.cc determineNextProtocol: only what arrived so far is looked at.
          socket.pause();
          socket.unshift(chunk);
          socket.removeListener("error", onEarlyError);
          if (
            chunk.length >= HTTP2_MAGIC_PREFIX.length &&
            chunk.subarray(0, HTTP2_MAGIC_PREFIX.length).equals(HTTP2_MAGIC_PREFIX)
          )
            this.startHttp2(socket);
          else {
            http1Connection.call(this.server, socket);
            socket.resume();
          }
        });
      });
    }
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) =>
      this.onClientError(err, socket),
    );
    if (sweepMs > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), sweepMs);
      this.sweepTimer.unref();
    }
    // No CONNECT matchers here: Envoy finds no route for CONNECT (404). Upgrades are refused by the stream.
    this.server.on("connect", (req: IncomingMessage, socket: Socket) =>
      this.refuse(req, socket, LOCAL_REPLIES.noRoute),
    );
  }

  /** The HTTP/2 codec: node:http2 with Envoy's http2_protocol_options as its settings. */
  private createHttp2Server(): Http2Server {
    const o = this.ctx.config.http2;
    const server = createHttp2Server({
      // The connection manager applies max_headers_count and max_request_headers_kb itself, as Envoy's codec
      // does (node's own limits would answer differently): node's limits only need to be above them.
      maxHeaderListPairs: this.ctx.config.maxHeadersCount * 2 + 16,
      settings: {
        maxConcurrentStreams: o.maxConcurrentStreams,
        initialWindowSize: o.initialStreamWindowSize,
      },
    });
    server.on("session", (session: ServerHttp2Session) => {
      const info = this.handingOver;
      if (info) {
        this.sessionConnections.set(session, info);
        info.http2Session = session;
      }
      this.http2Sessions.add(session);
      session.on("close", () => this.http2Sessions.delete(session));
      session.on("error", () => {});
      if (o.initialConnectionWindowSize > 65535) {
        session.once("localSettings", () => {
          try {
            session.setLocalWindowSize(o.initialConnectionWindowSize);
          } catch {}
        });
      }
      if (this.draining) session.close();
    });
    server.on("stream", (stream: ServerHttp2Stream, headers: Http2Headers, flags: number, raw: string[]) =>
      this.onHttp2Stream(stream, headers, flags, raw),
    );
    return server;
  }

  /**
   * Serve connections a listener hands over (after its filter chain match and TLS handshake) instead of
   * listening itself. node:http starts its request-timeout checker when its server listens; this one never
   * does, so the checker is started here the same way.
   */
  startHandOff(): void {
    this.handOff = true;
    this.server.emit("listening");
  }

  /** One connection of this filter chain (a TLS socket when the chain has a DownstreamTlsContext). */
  accept(socket: Socket): void {
    this.server.emit("connection", socket);
  }

  private startHttp2(socket: Socket): void {
    // node:http2 takes a TLS connection that negotiated no ALPN for HTTP/1.1 and refuses it; Envoy's HTTP2
    // codec (or AUTO seeing the preface) speaks HTTP/2 on it all the same.
    const tls = socket as TLSSocket;
    if (tls.encrypted && tls.alpnProtocol !== "h2") tls.alpnProtocol = "h2";
    this.ctx.listenerStats.cxHttp2Total.inc();
    this.handingOver = connections.get(socket);
    // node:http's server accepts half-open connections (for HTTP/1); an HTTP/2 session must end with its
    // socket, or a client that goes away leaves the session and its streams open.
    socket.allowHalfOpen = false;
    this.http2Server!.emit("connection", socket);
    this.handingOver = undefined;
  }

  private onHttp2Stream(
    stream: ServerHttp2Stream,
    headers: Http2Headers,
    flags: number,
    raw: string[],
  ): void {
    stream.on("error", () => {});
    const session = stream.session!;
    const connection = this.sessionConnections.get(session) ?? connectionInfo(session.socket as Socket);
    const h2 = new Http2Downstream(stream, raw, (flags & NGHTTP2_FLAG_END_STREAM) !== 0);
    new HttpStream(this.ctx, h2.request, h2, connection, h2).startHttp2(headers[":method"] === "HEAD");
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.draining) res.shouldKeepAlive = false;
    // The stream writes a lower-case `date` itself when the upstream sent none, as Envoy does.
    res.sendDate = false;
    const socket = req.socket;
    const connection = connections.get(socket) ?? connectionInfo(socket);
    const stream = new HttpStream(this.ctx, req, res, connection);
    stream.start(req);
  }

  /** Envoy's stream and connection timers, due or not. */
  private sweep(): void {
    const now = performance.now();
    for (const s of this.ctx.activeStreams) s.checkTimeouts(now);
    const idleMs = this.ctx.config.idleTimeoutMs;
    for (const socket of this.sockets) {
      const info = connections.get(socket);
      if (!info || info.streams > 0) continue;
      if (info.closeAtMs > 0) {
        if (now >= info.closeAtMs) {
          // onDrainTimeout: HTTP/2 sends its final GOAWAY and closes once no stream is left.
          if (info.http2Session) info.http2Session.close();
          else socket.destroy();
        }
        continue;
      }
      if (idleMs <= 0 || now - info.idleSinceMs < idleMs) continue;
      // Bytes of a new HTTP/1 request arrived: Envoy has a stream for it (its timers, not this one, apply).
      // HTTP/2 streams are counted as they open; other frames (WINDOW_UPDATE, PING) are not activity.
      if (!info.http2Session && socket.bytesRead !== info.bytesReadAtIdle) continue;
      this.onConnectionIdle(socket, info, now);
    }
  }

  /**
   * conn_manager_impl.cc onIdleTimeout: a connection that never sent a byte (no codec yet) closes now; one
   * that did starts the drain sequence (startDrainSequence), which for HTTP/1 closes it after drain_timeout
   * (onDrainTimeout) and the delayed close; a request arriving meanwhile is served with `connection: close`.
   * HTTP/2 gets the shutdown notice first (a GOAWAY with the highest stream id: no new streams, please),
   * then after drain_timeout the final GOAWAY, and closes when its streams are done.
   */
  private onConnectionIdle(socket: Socket, info: ConnectionInfo, now: number): void {
    this.ctx.stats.counter(`http.${this.ctx.config.statPrefix}.downstream_cx_idle_timeout`).inc();
    if (socket.bytesRead === 0) {
      socket.destroy();
      return;
    }
    const session = info.http2Session;
    if (session) {
      try {
        session.goaway(NGHTTP2_NO_ERROR, 2 ** 31 - 1);
      } catch {}
      info.closeAtMs = now + this.ctx.config.drainTimeoutMs;
      return;
    }
    info.closeAtMs = now + this.ctx.config.drainTimeoutMs + DELAYED_CLOSE_MS;
  }

  /**
   * Node's checker found a request whose headers (or body) did not arrive in time. With a stream still
   * receiving its body, that is the stream's request_timeout; without one, the first of Envoy's timers that
   * would have fired before the headers were complete.
   */
  private onRequestTimeout(socket: Socket): void {
    const info = connections.get(socket);
    const stream = info?.current;
    if (stream) {
      stream.onNodeRequestTimeout();
      return;
    }
    // Envoy reads one request at a time: a next request waits for the one in flight (its timers with it).
    if (info && info.streams > 0) return;
    const c = this.ctx.config;
    const first = minTimeout(c.requestHeadersTimeoutMs, c.requestTimeoutMs, c.streamIdleTimeoutMs);
    const [spec, counter] =
      first === c.requestHeadersTimeoutMs
        ? [LOCAL_REPLIES.requestHeaderTimeout, "downstream_rq_header_timeout"]
        : first === c.requestTimeoutMs
          ? [LOCAL_REPLIES.requestTimeout, "downstream_rq_timeout"]
          : [LOCAL_REPLIES.streamIdleTimeout, "downstream_rq_idle_timeout"];
    const ls = this.ctx.listenerStats;
    this.ctx.stats.counter(`http.${c.statPrefix}.${counter}`).inc();
    // Envoy made a stream at the request's first byte: it counts as a request.
    ls.rqTotal.inc();
    ls.rqHttp1Total.inc();
    ls.rqCompleted.inc();
    ls.countStatus(spec.status);
    this.replyOnSocket(socket, spec);
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const code = err.code ?? "";
    if (
      code === "ECONNRESET" ||
      !socket.writable ||
      ((err as { bytesParsed?: number }).bytesParsed === 0 && code === "HPE_INVALID_EOF_STATE")
    ) {
      socket.destroy();
      return;
    }
    if (code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "HPE_HEADERS_TIMEOUT") {
      this.onRequestTimeout(socket);
      return;
    }
    const spec = code === "HPE_HEADER_OVERFLOW" ? LOCAL_REPLIES.headersTooLarge : LOCAL_REPLIES.badRequest;
    this.ctx.stats
      .counter(`http.${this.ctx.config.statPrefix}.downstream_rq_${Math.floor(spec.status / 100)}xx`)
      .inc();
    this.replyOnSocket(socket, spec);
  }

  /** An answer written straight to the socket (no request object exists yet), access-logged; the connection closes. */
  private replyOnSocket(socket: Socket, spec: LocalReplySpec): void {
    const info = new StreamInfo(
      connections.get(socket)?.id ?? 0,
      formatAddress(socket.remoteAddress, socket.remotePort),
      formatAddress(socket.localAddress, socket.localPort),
      this.ctx.listener,
    );
    info.setConnectionFacts(connectionFacts(socket));
    info.responseCode = spec.status;
    info.responseCodeDetails = spec.details;
    if (spec.flag) info.setFlag(spec.flag);
    const reply = rawReply(spec, this.ctx.config.serverName);
    info.bytesSent = Buffer.byteLength(spec.body);
    info.finish();
    socket.end(reply);
    for (const log of this.ctx.accessLogs) log.log(info);
  }

  /** Answers a request node hands over as a raw socket (upgrade, CONNECT) and logs it. */
  private refuse(req: IncomingMessage, socket: Socket, spec: LocalReplySpec): void {
    const info = new StreamInfo(
      connections.get(socket)?.id ?? newConnectionId(),
      formatAddress(socket.remoteAddress, socket.remotePort),
      formatAddress(socket.localAddress, socket.localPort),
      this.ctx.listener,
    );
    info.setConnectionFacts(connectionFacts(socket));
    info.protocol = `HTTP/${req.httpVersion}`;
    info.requestHeaders = [
      [":authority", req.headers.host ?? ""],
      [":path", req.url ?? ""],
      [":method", req.method ?? ""],
    ];
    info.responseCode = spec.status;
    info.responseCodeDetails = spec.details;
    if (spec.flag) info.setFlag(spec.flag);
    info.finish();
    this.ctx.listenerStats.countStatus(spec.status);
    socket.on("error", () => {});
    socket.end(rawReply(spec, this.ctx.config.serverName));
    for (const log of this.ctx.accessLogs) log.log(info);
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("listener is not bound");
    return { host: a.address, port: a.port };
  }

  /** Stops accepting, lets in-flight requests finish (closing idle keep-alive connections), then closes. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    // GOAWAY: streams in flight finish, no new ones start, then the session closes.
    for (const session of this.http2Sessions) session.close();
    const closed = this.handOff
      ? this.socketsClosed()
      : new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.handOff) this.server.close();
    this.server.closeIdleConnections();
    const deadline = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, timeoutMs);
    const poll = setInterval(() => this.server.closeIdleConnections(), 50);
    await closed;
    clearTimeout(deadline);
    clearInterval(poll);
  }

  /** Resolves once no connection is left (checked as they close). */
  private socketsClosed(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.sockets.size === 0) {
          clearInterval(poll);
          resolve();
        }
      };
      const poll = setInterval(check, 20);
      check();
    });
  }

  /** Closes at once, resetting open connections. */
  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const session of this.http2Sessions) session.destroy();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
