/**
 * Sends one HTTP request to one host of a cluster and streams the response to a handler: head, body
 * chunks, end, or a reset. Failures are classified the way Envoy names stream reset reasons, so the router
 * can answer with Envoy's status, body and response flag.
 *
 * HTTP/1.1 goes through undici's `dispatch` handler API rather than `request`: no response stream, promise
 * or abort-signal listener per request, which is most of what a proxy's upstream side would otherwise
 * allocate. HTTP/2 goes through node:http2 streams behind the same handler. undici refuses an `expect`
 * header and treats an upstream's 100 as an error, so an HTTP/1.1 request carrying Expect
 * (proxy_100_continue, or a value Envoy passes on) goes through node:http, which sends it and reports the 100.
 */
import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { type ClientHttp2Stream, constants as h2 } from "node:http2";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { UpstreamCluster, UpstreamHost } from "./upstream-cluster.ts";

export type HeaderList = Array<[string, string]>;

export interface UpstreamRequestSpec {
  method: string;
  /** Path with query. */
  path: string;
  /** `:authority` value. */
  authority: string;
  scheme: "http" | "https";
  /** Lower-case regular headers (no pseudo-headers, no hop-by-hop headers). */
  headers: HeaderList;
  /** Request body; undefined when the request has none. */
  body: Readable | Uint8Array | undefined;
  /** Request trailers, set before a streamed body ends (sent by HTTP/2 only). */
  trailers?: HeaderList;
  /** HTTP/2 or HTTP/1.1 upstream, when the router chose (use_downstream_protocol_config); else the cluster's. */
  http2?: boolean;
}

/** What one upstream exchange reports, in this order: a head, data, then an end; or a reset at any point. */
export interface UpstreamResponseHandler {
  /** The response head (1xx informational heads are not reported here); `endStream`: nothing follows. */
  onUpstreamHeaders(status: number, headers: HeaderList, endStream?: boolean): void;
  /** Response trailers (HTTP/2), reported before the end. */
  onUpstreamTrailers?(trailers: HeaderList): void;
  /** A 1xx informational head before the response (reported for requests that carry Expect). */
  onUpstreamInformational?(status: number): void;
  onUpstreamData(chunk: Buffer): void;
  onUpstreamEnd(): void;
  /** The exchange failed; `afterHeaders` when the head had already been reported. */
  onUpstreamReset(reset: UpstreamResetError, afterHeaders: boolean): void;
}

/** The sender's side of an exchange in flight. */
export interface UpstreamExchange {
  /** Flow control: stop and restart response data (the downstream is slower than the upstream). */
  pause(): void;
  resume(): void;
  /** Cancels the exchange (downstream gone, route timeout, retry); no handler callback follows. */
  abort(): void;
}

export type ResetReason =
  | "connection failure"
  | "connection timeout"
  | "connection termination"
  | "protocol error"
  | "local reset";

/** A failed upstream exchange, named as Envoy names it. */
export class UpstreamResetError extends Error {
  constructor(
    readonly reason: ResetReason,
    readonly transportFailureReason: string,
    readonly beforeHeaders = true,
  ) {
    super(`upstream reset: ${reason}${transportFailureReason ? `, ${transportFailureReason}` : ""}`);
    this.name = "UpstreamResetError";
  }

  /** The connection never came up (the connection pools count those as upstream_cx_connect_fail). */
  get connectFailure(): boolean {
    return this.reason === "connection failure" || this.reason === "connection timeout";
  }
}

const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  EADDRNOTAVAIL: "Cannot assign requested address",
};

/** Maps a Node/undici error to Envoy's reset reason and transport failure reason. */
export function classifyUpstreamError(err: unknown, connected: boolean): UpstreamResetError {
  if (err instanceof UpstreamResetError) return err;
  const e = err as NodeJS.ErrnoException & { code?: string };
  const code = e?.code ?? "";
  if (code in CONNECT_ERRORS) {
    return new UpstreamResetError("connection failure", `delayed connect error: ${CONNECT_ERRORS[code]}`);
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT")
    return new UpstreamResetError("connection timeout", "");
  if (
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    /certificate|SSL|TLS/i.test(e?.message ?? "")
  ) {
    return new UpstreamResetError("connection failure", `TLS_error:${e?.message ?? code}`);
  }
  if (
    code.startsWith("HPE_") ||
    code === "UND_ERR_INFO" ||
    code === "ERR_HTTP2_PROTOCOL_ERROR" ||
    code === "UND_ERR_HEADERS_OVERFLOW"
  ) {
    return new UpstreamResetError("protocol error", "");
  }
  if (code === "UND_ERR_ABORTED" || e?.name === "AbortError")
    return new UpstreamResetError("local reset", "");
  return new UpstreamResetError(connected ? "connection termination" : "connection failure", "");
}

function headersFromUndici(raw: Record<string, string | string[] | undefined>): HeaderList {
  const out: HeaderList = [];
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined) continue;
    if (typeof value === "string") out.push([name, value]);
    else for (const v of value) out.push([name, v]);
  }
  return out;
}

/** Sends `spec` to `host` and reports the response to `handler`. */
export function startUpstreamExchange(
  cluster: UpstreamCluster,
  host: UpstreamHost,
  spec: UpstreamRequestSpec,
  handler: UpstreamResponseHandler,
): UpstreamExchange {
  if (spec.http2 ?? cluster.config.http2) return new Http2Exchange(cluster, host, spec, handler);
  for (const [n] of spec.headers)
    if (n === "expect") return new NodeHttp1Exchange(cluster, host, spec, handler);
  const headers: string[] = ["host", spec.authority];
  for (const [n, v] of spec.headers) headers.push(n, v);
  const exchange = new Http1Exchange(handler);
  // Envoy does not follow redirects, retry or decompress; neither does undici's dispatch.
  cluster
    .pool(host)
    .dispatch(
      { path: spec.path, method: spec.method as Dispatcher.HttpMethod, headers, body: spec.body ?? null },
      exchange,
    );
  return exchange;
}

/** An HTTP/1.1 exchange as an undici dispatch handler. */
class Http1Exchange implements UpstreamExchange, Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private headersSeen = false;
  private aborted = false;
  private paused = false;

  constructor(private readonly handler: UpstreamResponseHandler) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Aborted while queued for a connection: undici hands over the controller only now.
    if (this.aborted) controller.abort(new Error("aborted"));
    else if (this.paused) controller.pause();
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.aborted || status < 200) return;
    this.headersSeen = true;
    this.handler.onUpstreamHeaders(status, headersFromUndici(headers));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.aborted) this.handler.onUpstreamData(chunk);
  }

  onResponseEnd(): void {
    if (!this.aborted) this.handler.onUpstreamEnd();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    const connected = (err as { code?: string }).code === "UND_ERR_SOCKET";
    this.handler.onUpstreamReset(classifyUpstreamError(err, connected), this.headersSeen);
  }

  pause(): void {
    this.paused = true;
    this.controller?.pause();
  }

  resume(): void {
    this.paused = false;
    this.controller?.resume();
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort(new Error("aborted"));
  }
}

/** An HTTP/1.1 exchange through node:http, for requests with an `expect` header (see the file comment). */
class NodeHttp1Exchange implements UpstreamExchange {
  private readonly req: ClientRequest;
  private res: IncomingMessage | undefined;
  private connected = false;
  private headersSeen = false;
  private ended = false;
  private aborted = false;
  private paused = false;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    cluster: UpstreamCluster,
    host: UpstreamHost,
    spec: UpstreamRequestSpec,
    private readonly handler: UpstreamResponseHandler,
  ) {
    const headers: string[] = ["host", spec.authority];
    for (const [n, v] of spec.headers) headers.push(n, v);
    const tls = cluster.tlsOptions() !== undefined;
    const options = {
      host: host.ip,
      port: host.port,
      method: spec.method,
      path: spec.path,
      headers,
      setHost: false,
      agent: cluster.nodeAgent(),
    };
    const req = tls ? httpsRequest(options) : httpRequest(options);
    this.req = req;
    req.on("socket", (socket: Socket) => {
      if (!socket.connecting) {
        this.connected = true;
        return;
      }
      this.connectTimer = setTimeout(() => {
        req.destroy(Object.assign(new Error("connect timeout"), { code: "UND_ERR_CONNECT_TIMEOUT" }));
      }, cluster.config.connectTimeoutMs);
      socket.once(tls ? "secureConnect" : "connect", () => {
        this.connected = true;
        clearTimeout(this.connectTimer);
      });
    });
    req.on("information", (info: { statusCode: number }) => {
      if (!this.aborted) this.handler.onUpstreamInformational?.(info.statusCode);
    });
    req.on("response", (res: IncomingMessage) => this.onResponse(res));
    req.on("error", (err) => this.reset(classifyUpstreamError(err, this.connected)));
    req.on("close", () => clearTimeout(this.connectTimer));
    const body = spec.body;
    if (body === undefined) req.end();
    else if (body instanceof Uint8Array) req.end(body);
    else {
      // The head goes out now: the upstream answers Expect before the client sends its body.
      req.flushHeaders();
      body.pipe(req);
    }
  }

  private onResponse(res: IncomingMessage): void {
    this.res = res;
    if (this.aborted) return;
    if (this.paused) res.pause();
    this.headersSeen = true;
    const headers: HeaderList = [];
    const raw = res.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
    this.handler.onUpstreamHeaders(res.statusCode ?? 502, headers);
    res.on("data", (chunk: Buffer) => {
      if (!this.aborted) this.handler.onUpstreamData(chunk);
    });
    res.on("end", () => {
      this.ended = true;
      // An upstream that answered before taking the whole body (a 417) leaves the request unfinished: its
      // connection cannot be reused, so it goes.
      if (!this.req.writableFinished) this.req.destroy();
      if (!this.aborted) this.handler.onUpstreamEnd();
    });
    res.on("error", () => {});
    res.on("close", () => {
      if (!this.ended) this.reset(new UpstreamResetError("connection termination", ""));
    });
  }

  private reset(reset: UpstreamResetError): void {
    if (this.aborted) return;
    this.aborted = true;
    this.handler.onUpstreamReset(reset, this.headersSeen);
  }

  pause(): void {
    this.paused = true;
    this.res?.pause();
  }

  resume(): void {
    this.paused = false;
    this.res?.resume();
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.req.destroy();
  }
}

/** An HTTP/2 exchange: one stream of the host's shared session. */
class Http2Exchange implements UpstreamExchange {
  private stream: ClientHttp2Stream | undefined;
  private headersSeen = false;
  private aborted = false;
  private paused = false;

  constructor(
    private readonly cluster: UpstreamCluster,
    host: UpstreamHost,
    private readonly spec: UpstreamRequestSpec,
    private readonly handler: UpstreamResponseHandler,
  ) {
    cluster
      .http2(host)
      .acquire()
      .then(
        (session) => this.open(session),
        (err) => this.reset(classifyUpstreamError(err, false)),
      );
  }

  private open(session: Awaited<ReturnType<ReturnType<UpstreamCluster["http2"]>["acquire"]>>): void {
    if (this.aborted) return;
    const spec = this.spec;
    const headers: Record<string, string | string[]> = {
      [h2.HTTP2_HEADER_METHOD]: spec.method,
      [h2.HTTP2_HEADER_PATH]: spec.path,
      [h2.HTTP2_HEADER_AUTHORITY]: spec.authority,
      [h2.HTTP2_HEADER_SCHEME]: this.cluster.config.tls ? "https" : "http",
    };
    for (const [n, v] of spec.headers) {
      const existing = headers[n];
      if (existing === undefined) headers[n] = v;
      else headers[n] = Array.isArray(existing) ? [...existing, v] : [existing, v];
    }
    const endStream = spec.body === undefined || (spec.body instanceof Uint8Array && spec.body.length === 0);
    let stream: ClientHttp2Stream;
    try {
      // A streamed body may end with trailers (known only then): node waits for them (wantTrailers).
      stream = session.request(headers, {
        endStream,
        waitForTrailers: !endStream && !(spec.body instanceof Uint8Array),
      });
    } catch (err) {
      this.reset(classifyUpstreamError(err, true));
      return;
    }
    this.stream = stream;
    this.cluster.inc("upstream_rq_http2_total");
    if (this.paused) stream.pause();
    stream.on("continue", () => {
      if (!this.aborted) this.handler.onUpstreamInformational?.(100);
    });
    stream.on("wantTrailers", () => {
      const trailers: Record<string, string | string[]> = {};
      for (const [n, v] of spec.trailers ?? []) {
        if (n[0] === ":") continue;
        const existing = trailers[n];
        if (existing === undefined) trailers[n] = v;
        else trailers[n] = Array.isArray(existing) ? [...existing, v] : [existing, v];
      }
      try {
        stream.sendTrailers(trailers);
      } catch {}
    });
    stream.on("trailers", (_h, _flags, raw: string[]) => {
      if (this.aborted) return;
      const list: HeaderList = [];
      for (let i = 0; i < raw.length; i += 2) list.push([raw[i]!, raw[i + 1]!]);
      this.handler.onUpstreamTrailers?.(list);
    });
    stream.on("response", (h, flags: number) => {
      if (this.aborted) return;
      this.headersSeen = true;
      const list: HeaderList = [];
      let status = 0;
      for (const [name, value] of Object.entries(h)) {
        if (name === ":status") status = Number(value);
        else if (!name.startsWith(":") && value !== undefined) {
          if (Array.isArray(value)) for (const v of value) list.push([name, v]);
          else list.push([name, String(value)]);
        }
      }
      // A trailers-only response (gRPC errors): HEADERS with END_STREAM, which the client must see as such.
      this.handler.onUpstreamHeaders(status, list, (flags & h2.NGHTTP2_FLAG_END_STREAM) !== 0);
    });
    stream.on("data", (chunk: Buffer) => {
      if (!this.aborted) this.handler.onUpstreamData(chunk);
    });
    stream.on("end", () => {
      if (this.aborted) return;
      this.aborted = true;
      this.handler.onUpstreamEnd();
    });
    stream.on("error", (err) => this.reset(classifyUpstreamError(err, true)));
    stream.on("close", () => this.reset(new UpstreamResetError("connection termination", "")));
    if (!endStream) {
      if (spec.body instanceof Uint8Array) stream.end(spec.body);
      else if (spec.body) (spec.body as Readable).pipe(stream);
    }
  }

  private reset(reset: UpstreamResetError): void {
    if (this.aborted) return;
    this.aborted = true;
    this.handler.onUpstreamReset(reset, this.headersSeen);
  }

  pause(): void {
    this.paused = true;
    this.stream?.pause();
  }

  resume(): void {
    this.paused = false;
    this.stream?.resume();
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.stream?.close(h2.NGHTTP2_CANCEL);
  }
}

/** A whole response, for requests whose caller wants the body at once. */
export interface CollectedResponse {
  status: number;
  headers: HeaderList;
  body: Buffer;
}

/**
 * Sends `spec` and collects the whole response (plugin callouts, remote plugin code). `wanted` is asked at
 * each chunk; when it says no, the exchange is cancelled and the promise never settles.
 */
export function fetchUpstream(
  cluster: UpstreamCluster,
  host: UpstreamHost,
  spec: UpstreamRequestSpec,
  wanted: () => boolean = () => true,
): { response: Promise<CollectedResponse>; exchange: UpstreamExchange } {
  let exchange!: UpstreamExchange;
  const response = new Promise<CollectedResponse>((resolve, reject) => {
    let head: { status: number; headers: HeaderList } | undefined;
    const chunks: Buffer[] = [];
    exchange = startUpstreamExchange(cluster, host, spec, {
      onUpstreamHeaders: (status, headers) => {
        head = { status, headers };
      },
      onUpstreamData: (chunk) => {
        if (wanted()) chunks.push(chunk);
        else exchange.abort();
      },
      onUpstreamEnd: () => resolve({ ...head!, body: Buffer.concat(chunks) }),
      onUpstreamReset: (reset) => reject(reset),
    });
  });
  return { response, exchange };
}
