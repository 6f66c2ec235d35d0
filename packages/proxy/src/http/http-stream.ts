/**
 * One downstream HTTP request: Envoy's ActiveStream + FilterManager. Headers and body pass through the
 * filter chain (request in order, response in reverse) to the router and back to the client; local
 * replies (from the router, a filter or a limit) take Envoy's path through the response filters.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActiveEntry } from "../active-list.ts";
import { type ResponseFlag, StreamInfo } from "../stream-info.ts";
import { FilterIteration, type FilterStage, type IterationSink } from "./filter-iteration.ts";
import { getHeader, type HeaderList, removeHeader, setHeader } from "./header-list.ts";
import {
  findInvalidHeader,
  type InvalidHeader,
  invalidHeaderDetails,
  invalidHeaderMessage,
} from "./header-validation.ts";
import type { BodyBuffer, FilterStatus, HttpFilter, HttpFilterCallbacks } from "./http-filter.ts";
import type { HttpListenerContext } from "./http-listener-context.ts";
import { LOCAL_REPLIES, type LocalReplySpec } from "./local-reply.ts";
import { type DownstreamPeer, mutateRequestHeaders } from "./request-headers.ts";
import { parseRequestTarget } from "./request-target.ts";
import type { SelectedRoute } from "./route-table.ts";
import { Router, type RouterCallbacks } from "./router.ts";

const EMPTY = Buffer.alloc(0);

/** A filter's request side as a stage of the request iteration. */
class DecodingStage implements FilterStage {
  constructor(private readonly filter: HttpFilter) {}
  headers(headers: HeaderList, endStream: boolean): FilterStatus {
    return this.filter.decodeHeaders(headers, endStream);
  }
  data(body: BodyBuffer, endStream: boolean): FilterStatus {
    return this.filter.decodeData(body, endStream);
  }
  drain(): Buffer {
    return this.filter.drainDecoded();
  }
}

/** A filter's response side as a stage of the response iteration. */
class EncodingStage implements FilterStage {
  constructor(private readonly filter: HttpFilter) {}
  headers(headers: HeaderList, endStream: boolean): FilterStatus {
    return this.filter.encodeHeaders(headers, endStream);
  }
  data(body: BodyBuffer, endStream: boolean): FilterStatus {
    return this.filter.encodeData(body, endStream);
  }
  drain(): Buffer {
    return this.filter.drainEncoded();
  }
}

/** The end of the response iteration: the client. */
class ResponseWriter implements IterationSink {
  constructor(private readonly stream: HttpStream) {}
  headers(headers: HeaderList, endStream: boolean): void {
    this.stream.writeResponseHeaders(headers, endStream);
  }
  data(chunk: Buffer, endStream: boolean): void {
    this.stream.writeResponseData(chunk, endStream);
  }
}

class OverflowHandler {
  constructor(
    private readonly stream: HttpStream,
    private readonly direction: "request" | "response",
  ) {}
  overflow(): void {
    this.stream.onOverflow(this.direction);
  }
}

/** A filter left an invalid header in a direction's headers: which filter, which header. */
interface InvalidHeaderNote {
  direction: "request" | "response";
  filter: string;
  name: string;
}

/**
 * Per-connection id, formatted addresses and peer (computed once per connection rather than per request),
 * and the state of Envoy's connection idle timer.
 */
export interface ConnectionInfo {
  id: number;
  remote: string;
  local: string;
  peer: DownstreamPeer;
  /** Streams in flight on the connection, and the latest one. */
  streams: number;
  current: HttpStream | undefined;
  /** When the connection last had no stream (performance.now() ms), and how many bytes it had read then. */
  idleSinceMs: number;
  bytesReadAtIdle: number;
  /** When idle_timeout started the drain sequence: the time the connection closes (0 = not draining). */
  closeAtMs: number;
}

export class HttpStream implements HttpFilterCallbacks, RouterCallbacks {
  readonly streamInfo: StreamInfo;
  // The filter chain is made once the connection manager's checks pass (createFilterChain): a request
  // Envoy answers before that (codec errors, a missing Host) is never shown to a filter.
  private filters: HttpFilter[] = [];
  private decoder!: FilterIteration;
  private encoder!: FilterIteration;
  private readonly router: Router;
  private requestHeadersValue: HeaderList = [];
  private responseHeadersValue: HeaderList | undefined;
  private routeCache: SelectedRoute | undefined | null = null;
  private lastActivityMs = performance.now();
  /** stream_idle_timeout, or the route's idle_timeout (0 = off). */
  private idleTimeoutMs: number;
  /** When request_timeout fires (performance.now() ms; 0 = off or disarmed). */
  private requestDeadlineMs = 0;
  private encodingStarted = false;
  private complete = false;
  private localReplySent = false;
  private resetByProxy = false;
  /** The whole request arrived (Envoy's remote complete). */
  private remoteComplete = false;
  /** Invalid headers filters left, checked again where Envoy checks them (a later filter may fix them). */
  private invalidHeaderNotes: InvalidHeaderNote[] | undefined;
  /** This stream in the listener's active list (for the stream_idle_timeout sweep). */
  private readonly activeEntry: ActiveEntry<HttpStream>;

  constructor(
    private readonly ctx: HttpListenerContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly connection: ConnectionInfo,
  ) {
    this.streamInfo = new StreamInfo(connection.id, connection.remote, connection.local, ctx.listener);
    this.streamInfo.protocol = `HTTP/${req.httpVersion}`;
    this.router = new Router(ctx, this);
    this.activeEntry = ctx.activeStreams.add(this);
    // Envoy arms these timers when the stream begins (ActiveStream's constructor).
    this.idleTimeoutMs = ctx.config.streamIdleTimeoutMs;
    if (ctx.config.requestTimeoutMs > 0)
      this.requestDeadlineMs = this.lastActivityMs + ctx.config.requestTimeoutMs;
    connection.streams++;
    connection.current = this;
    // A connection in its drain sequence serves this last request with `connection: close`.
    if (connection.closeAtMs > 0) res.shouldKeepAlive = false;
  }

  /** The HTTP filters of the listener for this stream (none for a reply before the chain exists). */
  private createFilterChain(withFilters: boolean): void {
    const filters = withFilters ? this.ctx.filterFactories.map((make) => make(this)) : [];
    this.filters = filters;
    const limit = this.ctx.config.bufferLimitBytes;
    // Stages and sinks are class instances, not object literals of arrow functions: per-request closures
    // with inferred names cost a defineProperty each under tsx (esbuild keepNames).
    this.decoder = new FilterIteration(
      filters.map((f) => new DecodingStage(f)),
      this.router,
      limit,
      new OverflowHandler(this, "request"),
    );
    this.encoder = new FilterIteration(
      filters.map((f) => new EncodingStage(f)).reverse(),
      new ResponseWriter(this),
      limit,
      new OverflowHandler(this, "response"),
    );
  }

  /** A local reply before the filter chain exists. */
  private replyBeforeFilters(spec: LocalReplySpec): void {
    this.createFilterChain(false);
    this.sendLocal(spec);
  }

  /** The HTTP/1 codec's answer to a request it cannot take (sendProtocolError): DPE, and the connection closes. */
  private codecError(spec: LocalReplySpec): void {
    this.res.shouldKeepAlive = false;
    this.replyBeforeFilters(spec);
  }

  /** Starts processing: called once per request by the listener. */
  start(): void {
    const { req, res, ctx } = this;
    const config = ctx.config;
    const ls = ctx.listenerStats;
    ls.rqTotal.inc();
    ls.rqHttp1Total.inc();
    ls.rqActive.add(1);
    res.on("close", () => this.onDownstreamClose());
    const hasBody =
      req.headers["transfer-encoding"] !== undefined ||
      (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");
    this.remoteComplete = !hasBody;
    const method = req.method ?? "GET";

    // The HTTP/1 codec (http1/codec_impl.cc ServerConnectionImpl::onHeadersCompleteBase): handlePath reads
    // the request-target; checkProtocolVersion gives an HTTP/1.0 request without Host the configured default.
    const url = req.url ?? "/";
    const target = parseRequestTarget(url, method, config.allowAbsoluteUrl);
    let authority = req.headers.host;
    let path = url;
    let scheme = "http";
    if (target.kind === "origin") path = target.path;
    else if (target.kind === "absolute") {
      authority = target.authority;
      path = target.path;
      scheme = target.scheme;
    }
    if (authority === undefined && req.httpVersion === "1.0" && config.defaultHostForHttp10)
      authority = config.defaultHostForHttp10;
    const headers: HeaderList = authority === undefined ? [] : [[":authority", authority]];
    headers.push([":path", path], [":method", method], [":scheme", scheme]);
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name !== "host") headers.push([name, raw[i + 1]!]);
    }
    this.requestHeadersValue = headers;
    this.streamInfo.requestHeaders = headers;
    if (raw.length / 2 > config.maxHeadersCount) {
      this.codecError({ ...LOCAL_REPLIES.headersTooLarge, details: "http1.too_many_headers" });
      return;
    }
    if (target.kind === "invalid") {
      this.codecError({ ...LOCAL_REPLIES.badRequest, details: target.details });
      return;
    }

    // The connection manager (conn_manager_impl.cc ActiveStream::decodeHeaders), before any filter.
    const expect = req.headers.expect;
    if (expect !== undefined && !config.proxy100Continue && expect.toLowerCase() === "100-continue") {
      // Unless proxy_100_continue, Envoy answers 100 Continue itself (skipping the filter chain, counted as
      // a 1xx) and removes Expect so the upstream does not answer it again. Other values are passed on.
      this.encode100Continue();
      removeHeader(headers, "expect");
    }
    if (authority === undefined) {
      // "Require host header. For HTTP/1.1 Host has already been translated to :authority."
      this.replyBeforeFilters({ status: 400, body: "", details: "missing_host_header" });
      return;
    }
    if (path[0] !== "/") {
      // "Currently we only support relative paths at the application layer": OPTIONS *, or an absolute URI
      // without allow_absolute_url.
      ctx.stats.counter(`http.${config.statPrefix}.downstream_rq_non_relative_path`).inc();
      this.replyBeforeFilters({ status: 404, body: "", details: "absolute_path" });
      return;
    }
    mutateRequestHeaders(headers, config, this.connection.peer, "http");
    // Envoy picks the route before the filters run; it changes only on clear_route_cache.
    this.routeCache = ctx.routeTable.select(headers);
    const action = this.routeCache?.route.action;
    if (action?.kind === "route" && action.route.idleTimeoutMs !== undefined) {
      // A route's idle_timeout replaces stream_idle_timeout (0 turns it off), counted from now.
      this.idleTimeoutMs = action.route.idleTimeoutMs;
      this.lastActivityMs = performance.now();
    }
    this.createFilterChain(true);
    if (req.headers.upgrade !== undefined && /\bupgrade\b/i.test(req.headers.connection ?? "")) {
      // No upgrade_configs: Envoy refuses the upgrade (and closes the connection).
      res.shouldKeepAlive = false;
      this.sendLocal({ status: 403, body: "", details: "upgrade_failed" });
      return;
    }
    if (hasBody) {
      // Without content-length or transfer-encoding an HTTP/1.1 request has no body; node discards what is
      // left of an unread request itself, so body-less requests skip the stream machinery.
      req.on("data", (chunk: Buffer) => {
        this.streamInfo.bytesReceived += chunk.length;
        this.lastActivityMs = performance.now();
        this.decoder.data(chunk, false);
      });
      req.on("end", () => {
        this.remoteComplete = true;
        this.decoder.data(EMPTY, true);
      });
      req.on("error", () => {});
    }
    this.decoder.headers(headers, !hasBody);
  }

  // ---- HttpFilterCallbacks -------------------------------------------------------------------------

  continueDecoding(): void {
    this.decoder.resume();
  }

  continueEncoding(): void {
    this.encoder.resume();
  }

  sendLocalReply(status: number, body: Uint8Array | string, headers: HeaderList, details: string): void {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
    this.sendLocal({ status, body: "", details }, headers, bytes);
  }

  clearRouteCache(): void {
    this.routeCache = null;
  }

  route(): SelectedRoute | undefined {
    if (this.routeCache === null) this.routeCache = this.ctx.routeTable.select(this.requestHeadersValue);
    return this.routeCache;
  }

  requestHeaders(): HeaderList {
    return this.requestHeadersValue;
  }

  responseHeaders(): HeaderList | undefined {
    return this.responseHeadersValue;
  }

  resetStream(): void {
    this.router.abort();
    this.resetDownstream("LR");
  }

  headersEdited(direction: "request" | "response", filterName: string, headers: HeaderList): void {
    const bad = findInvalidHeader(headers);
    if (!bad) return;
    this.invalidHeaderNotes ??= [];
    this.invalidHeaderNotes.push({ direction, filter: filterName, name: bad.name });
  }

  /**
   * upstream_codec_filter.cc (UpstreamCodecFilter::decodeHeaders): the upstream codec refuses request headers
   * a filter made invalid (HeaderUtility::checkValidRequestHeaders), and the router answers 503 with flag DPE,
   * the status message as body and `filter_removed_required_request_headers{...}` details.
   */
  rejectInvalidRequestHeaders(headers: HeaderList): boolean {
    if (this.invalidHeaderNotes === undefined) return false;
    const bad = findInvalidHeader(headers);
    if (!bad) return false;
    const details = invalidHeaderDetails("filter_removed_required_request_headers", bad);
    this.logInvalidHeader("request", bad, `503 ${details}`);
    this.sendLocal({ status: 503, body: invalidHeaderMessage(bad), details, flag: "DPE" });
    return true;
  }

  /**
   * filter_manager.cc (FilterManager::encodeHeaders) checks the response headers once the response filters
   * ran and answers 502 with `filter_removed_required_response_headers{...}` (no flag); Envoy checks only
   * `:status` there and its HTTP/1 codec would write an invalid value as is, which node refuses to, so an
   * invalid name or value gets that same answer here. Returns true when it answered.
   */
  private rejectInvalidResponseHeaders(headers: HeaderList): boolean {
    const bad = findInvalidHeader(headers);
    if (!bad) return false;
    const details = invalidHeaderDetails("filter_removed_required_response_headers", bad);
    this.logInvalidHeader("response", bad, `502 ${details}`);
    // The replacement is not checked again.
    this.invalidHeaderNotes = undefined;
    this.router.abort();
    this.decoder.aborted = true;
    this.encoder.aborted = true;
    this.localReplySent = true;
    this.streamInfo.responseCodeDetails = details;
    const body = Buffer.from(invalidHeaderMessage(bad), "utf8");
    this.writeResponseHeaders(
      [
        [":status", "502"],
        ["content-type", "text/plain"],
        ["content-length", String(body.length)],
        ["server", this.ctx.config.serverName],
      ],
      false,
    );
    this.writeResponseData(body, true);
    return true;
  }

  private logInvalidHeader(direction: "request" | "response", bad: InvalidHeader, answer: string): void {
    const notes = this.invalidHeaderNotes ?? [];
    const note =
      notes.find((n) => n.direction === direction && n.name === bad.name) ??
      notes.findLast((n) => n.direction === direction);
    const who = note ? `filter ${JSON.stringify(note.filter)} (envoy.filters.http.wasm)` : "a filter";
    this.ctx.log(
      "warning",
      "http",
      `[C${this.connection.id}] ${who} set an invalid ${bad.part} for ${direction} header ` +
        `${JSON.stringify(bad.name)}; answered ${answer}`,
    );
  }

  // ---- RouterCallbacks ---------------------------------------------------------------------------------

  get responseStarted(): boolean {
    return this.encodingStarted;
  }

  get finished(): boolean {
    return this.complete || this.localReplySent;
  }

  upstreamResponseHeaders(headers: HeaderList, endStream: boolean): void {
    this.encodingStarted = true;
    this.requestDeadlineMs = 0;
    this.encoder.headers(headers, endStream);
  }

  responseData(chunk: Buffer, endStream: boolean): void {
    this.encoder.data(chunk, endStream);
  }

  pauseRequest(): void {
    this.req.pause();
  }

  resumeRequest(): void {
    this.req.resume();
  }

  /**
   * A `100 Continue` to the client: Envoy's own (see start) or, with proxy_100_continue, the upstream's
   * (ActiveStreamDecoderFilter::encode1xxHeaders). Counted like Envoy's chargeStats does for a 1xx.
   */
  encode100Continue(): void {
    if (this.res.headersSent || this.res.destroyed) return;
    this.lastActivityMs = performance.now();
    const ls = this.ctx.listenerStats;
    ls.countStatus(100);
    ls.rqCompleted.inc();
    this.res.writeContinue();
  }

  touch(): void {
    this.lastActivityMs = performance.now();
  }

  /** Envoy resets the downstream stream (the proxy's decision, so not a DC). */
  resetDownstream(flag?: ResponseFlag): void {
    if (flag) this.streamInfo.setFlag(flag);
    this.resetByProxy = true;
    this.res.destroy();
  }

  /** Envoy's request_timeout and stream_idle_timeout, checked by the listener's periodic sweep. */
  checkTimeouts(nowMs: number): void {
    if (this.complete) return;
    if (this.requestDeadlineMs > 0 && nowMs >= this.requestDeadlineMs) this.onRequestTimeout();
    else if (this.idleTimeoutMs > 0 && nowMs - this.lastActivityMs >= this.idleTimeoutMs)
      this.onIdleTimeout();
  }

  /** Node's checker saw this stream's body not arrive within request_timeout (counted from its first byte). */
  onNodeRequestTimeout(): void {
    if (!this.complete && !this.remoteComplete && this.requestDeadlineMs > 0) this.onRequestTimeout();
  }

  /**
   * request_timeout is disarmed once the whole request went through the filters to the router, or once the
   * response starts (filter_manager.cc disarmRequestTimeout).
   */
  disarmRequestTimeout(): void {
    this.requestDeadlineMs = 0;
  }

  /** 408 while the request is still arriving, 504 once it is all there (Utility::maybeRequestTimeoutCode). */
  private timeoutStatus(): number {
    return this.remoteComplete ? 504 : 408;
  }

  /** conn_manager_impl.cc ActiveStream::onRequestTimeout. */
  private onRequestTimeout(): void {
    this.requestDeadlineMs = 0;
    this.ctx.stats.counter(`http.${this.ctx.config.statPrefix}.downstream_rq_timeout`).inc();
    this.sendLocal({ ...LOCAL_REPLIES.requestTimeout, status: this.timeoutStatus() });
  }

  /** conn_manager_impl.cc ActiveStream::onIdleTimeout: a local reply, or a reset once the response started. */
  private onIdleTimeout(): void {
    this.ctx.stats.counter(`http.${this.ctx.config.statPrefix}.downstream_rq_idle_timeout`).inc();
    this.router.abort();
    if (!this.encodingStarted) {
      this.sendLocal({ ...LOCAL_REPLIES.streamIdleTimeout, status: this.timeoutStatus() });
      return;
    }
    this.streamInfo.responseCodeDetails = LOCAL_REPLIES.streamIdleTimeout.details;
    this.resetDownstream("SI");
  }

  // ---- responses -------------------------------------------------------------------------------------

  /** Envoy's local reply: runs through the response filters unless the response is already underway. */
  sendLocal(spec: LocalReplySpec, extraHeaders: HeaderList = [], rawBody?: Buffer): void {
    if (this.complete) return;
    const first = !this.localReplySent;
    this.localReplySent = true;
    this.requestDeadlineMs = 0;
    this.decoder.aborted = true;
    if (spec.flag) this.streamInfo.setFlag(spec.flag);
    this.streamInfo.responseCodeDetails = spec.details;
    this.router.abort();
    const body = rawBody ?? Buffer.from(spec.body, "utf8");
    const headers: HeaderList = [[":status", String(spec.status)]];
    for (const pair of extraHeaders) headers.push(pair);
    if (body.length > 0 && getHeader(headers, "content-type") === undefined) {
      headers.push(["content-type", "text/plain"]);
    }
    setHeader(headers, "content-length", String(body.length));
    setHeader(headers, "server", this.ctx.config.serverName);
    if (this.res.headersSent || !first) {
      // Too late for a reply: Envoy resets the stream.
      this.resetDownstream();
      return;
    }
    if (this.encodingStarted) {
      // A reply during response processing bypasses the (already running) response filters.
      this.encoder.aborted = true;
      this.writeResponseHeaders(headers, body.length === 0);
      if (body.length > 0) this.writeResponseData(body, true);
      return;
    }
    this.encodingStarted = true;
    this.encoder.headers(headers, body.length === 0);
    if (body.length > 0) this.encoder.data(body, true);
  }

  /** A filter buffered more than the buffer limit: 413 for requests, 500 (or a reset) for responses. */
  onOverflow(direction: "request" | "response"): void {
    if (direction === "request") {
      this.sendLocal(LOCAL_REPLIES.requestTooLarge);
      return;
    }
    if (!this.res.headersSent) {
      this.localReplySent = false;
      this.sendLocal(LOCAL_REPLIES.responseTooLarge);
    } else this.resetDownstream();
  }

  writeResponseHeaders(headers: HeaderList, endStream: boolean): void {
    if (this.res.headersSent || this.res.destroyed) return;
    if (
      this.invalidHeaderNotes?.some((n) => n.direction === "response") &&
      this.rejectInvalidResponseHeaders(headers)
    )
      return;
    this.responseHeadersValue = headers;
    this.streamInfo.responseHeaders = headers;
    const status = Number(getHeader(headers, ":status") ?? 502);
    this.streamInfo.responseCode = status;
    if (!this.streamInfo.responseCodeDetails) this.streamInfo.responseCodeDetails = "via_upstream";
    const flat: string[] = [];
    let hasDate = false;
    for (const [n, v] of headers) {
      if (n[0] === ":") continue;
      if (n === "date") hasDate = true;
      flat.push(n, v);
    }
    if (!hasDate) flat.push("date", new Date().toUTCString());
    // conn_manager_impl.cc encodeHeaders: a response before the whole request arrived ends the HTTP/1
    // connection ("we don't want to wait around for the request to finish").
    if (!this.remoteComplete) this.res.shouldKeepAlive = false;
    this.streamInfo.firstDownstreamTxMs = performance.now();
    this.res.writeHead(status, flat);
    if (endStream) this.res.end();
  }

  writeResponseData(chunk: Buffer, endStream: boolean): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    if (chunk.length > 0) {
      this.streamInfo.bytesSent += chunk.length;
      if (!res.write(chunk)) this.router.pauseResponse((go) => res.once("drain", go));
    }
    if (endStream) res.end();
  }

  private onDownstreamClose(): void {
    if (this.complete) return;
    this.complete = true;
    const info = this.streamInfo;
    info.finish();
    if (!this.res.writableFinished && !this.resetByProxy) {
      info.setFlag("DC");
      if (!info.responseCodeDetails) info.responseCodeDetails = "downstream_remote_disconnect";
    }
    this.router.finish();
    this.decoder.aborted = true;
    this.encoder.aborted = true;
    const connection = this.connection;
    connection.streams--;
    if (connection.current === this) connection.current = undefined;
    if (connection.streams === 0) {
      // Envoy re-arms the connection's idle timer when its last stream goes (doDeferredStreamDestroy).
      connection.idleSinceMs = performance.now();
      connection.bytesReadAtIdle = this.req.socket?.bytesRead ?? 0;
    }
    const ls = this.ctx.listenerStats;
    ls.rqActive.add(-1);
    const code = info.responseCode ?? 0;
    if (code > 0) {
      ls.countStatus(code);
      ls.rqCompleted.inc();
    }
    ls.rqTime.record(info.durationMs());
    for (const log of this.ctx.accessLogs) log.log(info);
    for (const f of this.filters) f.onLog();
    for (const f of this.filters) f.onDestroy();
    this.ctx.activeStreams.remove(this.activeEntry);
  }
}
