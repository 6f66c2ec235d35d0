/**
 * An HTTP/1.1 listener (http_connection_manager) on node:http. Protocol errors get Envoy's codec answers
 * (400 Bad Request, 431 for headers over max_request_headers_kb) and are access-logged with DPE.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { Socket } from "node:net";
import { ActiveList } from "../active-list.ts";
import { formatAddress, newConnectionId, StreamInfo } from "../stream-info.ts";
import type { HttpListenerContext } from "./http-listener-context.ts";
import { type ConnectionInfo, HttpStream } from "./http-stream.ts";
import { LOCAL_REPLIES, type LocalReplySpec } from "./local-reply.ts";
import { downstreamPeer } from "./request-headers.ts";

function connectionInfo(socket: Socket): ConnectionInfo {
  return {
    id: newConnectionId(),
    remote: formatAddress(socket.remoteAddress, socket.remotePort),
    local: formatAddress(socket.localAddress, socket.localPort),
    peer: downstreamPeer(socket.remoteAddress),
  };
}
const connections = new WeakMap<Socket, ConnectionInfo>();

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
  private readonly sockets = new ActiveList<Socket>();
  private draining = false;
  private readonly idleSweep: NodeJS.Timeout | undefined;

  constructor(readonly ctx: HttpListenerContext) {
    const config = ctx.config;
    this.server = createServer(
      {
        maxHeaderSize: config.maxRequestHeadersKb * 1024,
        // Envoy's defaults: no overall request timeout, no headers timeout (both opt-in).
        requestTimeout: config.requestTimeoutMs,
        headersTimeout: config.requestHeadersTimeoutMs,
        // No "Keep-Alive: timeout=" header (Envoy sends none); the idle timeout is a socket timeout below.
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
      if (config.idleTimeoutMs > 0) socket.setTimeout(config.idleTimeoutMs, () => socket.destroy());
      ctx.listenerStats.cxTotal.inc();
      ctx.listenerStats.cxActive.add(1);
      socket.on("close", () => {
        this.sockets.remove(entry);
        ctx.listenerStats.cxActive.add(-1);
      });
    });
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) =>
      this.onClientError(err, socket),
    );
    const idleMs = config.streamIdleTimeoutMs;
    if (idleMs > 0) {
      // Checked every second (or sooner for short timeouts) by one timer per listener, not one per stream.
      this.idleSweep = setInterval(
        () => {
          const now = Date.now();
          for (const s of ctx.activeStreams) s.checkIdle(now, idleMs);
        },
        Math.min(1000, Math.max(10, idleMs / 4)),
      );
      this.idleSweep.unref();
    }
    // No CONNECT matchers here: Envoy finds no route for CONNECT (404). Upgrades are refused by the stream.
    this.server.on("connect", (req: IncomingMessage, socket: Socket) =>
      this.refuse(req, socket, LOCAL_REPLIES.noRoute),
    );
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.draining) res.shouldKeepAlive = false;
    // The stream writes a lower-case `date` itself when the upstream sent none, as Envoy does.
    res.sendDate = false;
    const socket = req.socket;
    const connection = connections.get(socket) ?? connectionInfo(socket);
    const stream = new HttpStream(this.ctx, req, res, connection);
    stream.start();
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
      socket.end(
        rawReply(
          { status: 408, body: "request timeout", details: "request_headers_timeout" },
          this.ctx.config.serverName,
        ),
      );
      return;
    }
    const spec = code === "HPE_HEADER_OVERFLOW" ? LOCAL_REPLIES.headersTooLarge : LOCAL_REPLIES.badRequest;
    this.ctx.stats
      .counter(`http.${this.ctx.config.statPrefix}.downstream_rq_${Math.floor(spec.status / 100)}xx`)
      .inc();
    const info = new StreamInfo(
      connections.get(socket)?.id ?? 0,
      formatAddress(socket.remoteAddress, socket.remotePort),
      formatAddress(socket.localAddress, socket.localPort),
      this.ctx.listener,
    );
    info.responseCode = spec.status;
    info.responseCodeDetails = spec.details;
    info.setFlag("DPE");
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
    if (this.idleSweep) clearInterval(this.idleSweep);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, timeoutMs);
    const poll = setInterval(() => this.server.closeIdleConnections(), 50);
    await closed;
    clearTimeout(deadline);
    clearInterval(poll);
  }

  /** Closes at once, resetting open connections. */
  async close(): Promise<void> {
    if (this.idleSweep) clearInterval(this.idleSweep);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
