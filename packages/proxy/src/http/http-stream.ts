/**
 * One downstream HTTP request: Envoy's ActiveStream + FilterManager. Headers and body pass through the
 * filter chain (request in order, response in reverse) to the router and back to the client; local
 * replies (from the router, a filter or a limit) take Envoy's path through the response filters.
 */

import type { IncomingMessage } from "node:http";
import { type Http2Session, constants as http2Constants } from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ActiveEntry } from "../active-list.ts";
import type { ConnectionFacts } from "../listener/connection-facts.ts";
import { type ResponseFlag, StreamInfo } from "../stream-info.ts";
import { FilterIteration, type FilterStage, type IterationSink } from "./filter-iteration.ts";
import { isGrpcContentType } from "./grpc-content-type.ts";
import { getHeader, type HeaderList, removeHeader, setHeader } from "./header-list.ts";
import {
  findInvalidHeader,
  type InvalidHeader,
  invalidHeaderDetails,
  invalidHeaderMessage,
} from "./header-validation.ts";
import type { BodyBuffer, FilterStatus, HttpFilter, HttpFilterCallbacks } from "./http-filter.ts";
import type { HttpListenerContext } from "./http-listener-context.ts";
import type { DownstreamRequest, DownstreamResponse, Http2Downstream } from "./http2-downstream.ts";
import { grpcPercentEncode, httpToGrpcStatus, LOCAL_REPLIES, type LocalReplySpec } from "./local-reply.ts";
import { type DownstreamPeer, mutateRequestHeaders } from "./request-headers.ts";
import { parseRequestTarget } from "./request-target.ts";
import type { SelectedRoute } from "./route-table.ts";
import { Router, type RouterCallbacks } from "./router.ts";

const EMPTY = Buffer.alloc(0);
const { NGHTTP2_INTERNAL_ERROR } = http2Constants;

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
  trailers(trailers: HeaderList): FilterStatus {
    return this.filter.decodeTrailers?.(trailers) ?? "continue";
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
  trailers(trailers: HeaderList): FilterStatus {
    return this.filter.encodeTrailers?.(trailers) ?? "continue";
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
  trailers(trailers: HeaderList): void {
    this.stream.writeResponseTrailers(trailers);
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
  socket: Socket;
  /** What the listener stage learned of the connection (SNI, TLS). */
  facts: ConnectionFacts;
  /** Streams in flight on the connection, and the latest one. */
  streams: number;
  current: HttpStream | undefined;
  /** When the connection last had no stream (performance.now() ms), and how many bytes it had read then. */
  idleSinceMs: number;
  bytesReadAtIdle: number;
  /** When idle_timeout started the drain sequence: the time the connection closes (0 = not draining). */
  closeAtMs: number;
  /** The HTTP/2 session on this connection, when the HTTP/2 codec serves it. */
  http2Session?: Http2Session;
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
  /** The request's content-type is gRPC: local replies are trailers-only gRPC responses. */
  private isGrpcRequest = false;
  private isHeadRequest = false;
  /** The HTTP/1 request, kept only when the codec handles trailers (enable_trailers). */
  private http1Request: IncomingMessage | undefined;
  /** Invalid headers filters left, checked again where Envoy checks them (a later filter may fix them). */
  private invalidHeaderNotes: InvalidHeaderNote[] | undefined;
  /** This stream in the listener's active list (for the stream_idle_timeout sweep). */
  private readonly activeEntry: ActiveEntry<HttpStream>;

  constructor(
    private readonly ctx: HttpListenerContext,
    private readonly req: DownstreamRequest,
    private readonly res: DownstreamResponse,
    private readonly connection: ConnectionInfo,
    /** The HTTP/2 stream, when the HTTP/2 codec carries this request (res is the same object then). */
    private readonly h2?: Http2Downstream,
  ) {
    this.streamInfo = new StreamInfo(connection.id, connection.remote, connection.local, ctx.listener);
    this.streamInfo.setConnectionFacts(connection.facts);
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
  /** https on a TLS connection (conn_manager_utility.cc getScheme), else http. */
  private connectionScheme(): "http" | "https" {
    return (this.connection.socket as TLSSocket).encrypted === true ? "https" : "http";
  }

  private replyBeforeFilters(spec: LocalReplySpec): void {
    this.createFilterChain(false);
    this.sendLocal(spec);
  }

  /** The HTTP/1 codec's answer to a request it cannot take (sendProtocolError): DPE, and the connection closes. */
  private codecError(spec: LocalReplySpec): void {
    this.res.shouldKeepAlive = false;
    this.replyBeforeFilters(spec);
  }

  /** Starts an HTTP/1 request: called once per request by the listener. */
  start(req: IncomingMessage): void {
    const { res, ctx } = this;
    if (ctx.config.http1EnableTrailers) this.http1Request = req;
    const config = ctx.config;
    const ls = ctx.listenerStats;
    this.streamInfo.protocol = `HTTP/${req.httpVersion}`;
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
    // conn_manager_utility.cc (getScheme / mutateRequestHeaders): an origin-form request's :scheme and
    // x-forwarded-proto come from the connection, https on a TLS listener.
    let scheme: string = this.connectionScheme();
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
    this.isHeadRequest = method === "HEAD";
    // No upgrade_configs: Envoy refuses an upgrade (and closes the connection), once the filters exist.
    let upgrade = req.headers.upgrade !== undefined && /\bupgrade\b/i.test(req.headers.connection ?? "");
    if (upgrade && req.headers.upgrade!.toLowerCase() === "h2c") {
      // http1/codec_impl.cc onHeadersCompleteBase: "Ignore h2c upgrade requests until we support them": the
      // request is served over HTTP/1.1 without Upgrade and HTTP2-Settings (Connection goes with the other
      // hop-by-hop headers).
      upgrade = false;
      removeHeader(headers, "upgrade");
      removeHeader(headers, "http2-settings");
    }
    this.decodeHeaders(headers, authority, path, hasBody, req.headers["content-type"], upgrade);
  }

  /**
   * Starts an HTTP/2 request. Envoy's HTTP/2 codec hands the connection manager the header block as
   * received: pseudo-headers first (`:method`, `:scheme`, `:authority`, `:path` in the client's order), then
   * the rest; `cookie` fields are joined with "; " (RFC 9113 §8.2.3, Http2 codec_impl.cc).
   */
  startHttp2(isHead: boolean): void {
    const h2 = this.h2!;
    const ctx = this.ctx;
    const ls = ctx.listenerStats;
    this.streamInfo.protocol = "HTTP/2";
    ls.rqTotal.inc();
    ls.rqHttp2Total.inc();
    ls.rqActive.add(1);
    h2.on("close", () => this.onDownstreamClose());
    const raw = h2.rawHeaders;
    const headers: HeaderList = [];
    let authority: string | undefined;
    let path = "";
    let cookie = -1;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      if (name === ":authority") authority = value;
      else if (name === ":path") path = value;
      if (name === "cookie") {
        if (cookie >= 0) {
          headers[cookie]![1] += `; ${value}`;
          continue;
        }
        cookie = headers.length;
      }
      headers.push([name, value]);
    }
    // An HTTP/2 request may carry Host instead of :authority (RFC 9113 §8.3.1).
    if (authority === undefined) {
      const host = getHeader(headers, "host");
      if (host !== undefined) {
        authority = host;
        removeHeader(headers, "host");
        headers.unshift([":authority", host]);
      }
    }
    this.isHeadRequest = isHead;
    this.requestHeadersValue = headers;
    this.streamInfo.requestHeaders = headers;
    // http2/codec_impl.cc saveHeader: more than max_headers_count entries (pseudo-headers included) or more
    // than max_request_headers_kb of names and values resets the stream (RST_STREAM INTERNAL_ERROR from
    // nghttp2), logged DPE with the codec's details.
    const config = this.ctx.config;
    let bytes = 0;
    for (const [n, v] of headers) bytes += n.length + v.length;
    if (headers.length > config.maxHeadersCount || bytes > config.maxRequestHeadersKb * 1024) {
      this.ctx.stats.counter("http2.header_overflow").inc();
      this.ctx.stats.counter(`http.${config.statPrefix}.downstream_rq_rx_reset`).inc();
      this.streamInfo.setFlag("DPE");
      this.streamInfo.responseCodeDetails = "http2.too_many_headers";
      this.createFilterChain(false);
      this.resetByProxy = true;
      h2.resetWith(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const hasBody = !h2.endAfterHeaders;
    // The connection manager's 100-continue handling is the same for both codecs (see start).
    if (!this.ctx.config.proxy100Continue) {
      const expect = getHeader(headers, "expect");
      if (expect !== undefined && expect.toLowerCase() === "100-continue") {
        this.encode100Continue();
        removeHeader(headers, "expect");
      }
    }
    this.remoteComplete = !hasBody;
    this.decodeHeaders(headers, authority, path, hasBody, getHeader(headers, "content-type"), false);
  }

  /**
   * The connection manager's part of a request, whichever codec brought it (conn_manager_impl.cc
   * ActiveStream::decodeHeaders): checks, header edits, route, filter chain, then the request into it.
   * `refuseUpgrade`: an HTTP/1 upgrade request, answered 403 once the chain exists.
   */
  private decodeHeaders(
    headers: HeaderList,
    authority: string | undefined,
    path: string,
    hasBody: boolean,
    contentType: string | undefined,
    refuseUpgrade: boolean,
  ): void {
    const ctx = this.ctx;
    const config = ctx.config;
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
    mutateRequestHeaders(headers, config, this.connection.peer, this.connectionScheme());
    // Envoy picks the route before the filters run; it changes only on clear_route_cache.
    this.routeCache = ctx.routeTable.select(headers);
    const action = this.routeCache?.route.action;
    if (action?.kind === "route" && action.route.idleTimeoutMs !== undefined) {
      // A route's idle_timeout replaces stream_idle_timeout (0 turns it off), counted from now.
      this.idleTimeoutMs = action.route.idleTimeoutMs;
      this.lastActivityMs = performance.now();
    }
    // filter_manager.cc decodeHeaders: a gRPC request gets its local replies as gRPC (trailers-only) responses.
    this.isGrpcRequest = isGrpcContentType(contentType);
    this.createFilterChain(true);
    if (refuseUpgrade) {
      this.res.shouldKeepAlive = false;
      this.sendLocal({ status: 403, body: "", details: "upgrade_failed" });
      return;
    }
    const req = this.req;
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
        // HTTP/2 request trailers; HTTP/1 ones only with http_protocol_options.enable_trailers (default off).
        const trailers = this.h2 ? this.h2.requestTrailers : this.http1Trailers();
        if (trailers) this.decoder.trailers(trailers);
        else this.decoder.data(EMPTY, true);
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

  sendLocalReply(
    status: number,
    body: Uint8Array | string,
    headers: HeaderList,
    details: string,
    grpcStatus?: number | null,
  ): void {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
    const spec: LocalReplySpec = { status, body: "", details };
    if (grpcStatus !== undefined && grpcStatus !== null) spec.grpcStatus = grpcStatus;
    this.sendLocal(spec, headers, bytes);
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

  responseTrailers(trailers: HeaderList): void {
    this.encoder.trailers(trailers);
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
    if (this.isGrpcRequest) {
      this.sendGrpcLocal(spec, headers, body, first);
      return;
    }
    // http/utility.cc prepareLocalReply: `:status`, the caller's headers (modify_headers: a plugin's, a
    // direct_response's), then content-length and, if absent, content-type; an empty body has neither.
    // `server` and `date` are not here: the connection manager adds them after the response filters
    // (writeResponseHeaders), so a filter never sees them on a local reply.
    if (body.length > 0) {
      setHeader(headers, "content-length", String(body.length));
      if (getHeader(headers, "content-type") === undefined) headers.push(["content-type", "text/plain"]);
    } else {
      removeHeader(headers, "content-length");
      removeHeader(headers, "content-type");
    }
    if (this.res.headersSent || !first) {
      // Too late for a reply: Envoy resets the stream.
      this.resetDownstream();
      return;
    }
    // encodeLocalReply: a HEAD request gets the headers alone (end_stream), no body through the filters.
    const headersOnly = body.length === 0 || this.isHeadRequest;
    if (this.encodingStarted) {
      // A reply during response processing bypasses the (already running) response filters.
      this.encoder.aborted = true;
      this.writeResponseHeaders(headers, headersOnly);
      if (!headersOnly) this.writeResponseData(body, true);
      return;
    }
    // filter_manager.cc DownstreamFilterManager::sendLocalReplyViaFilterChain: the reply starts at the first
    // encoder filter (encodeHeaders(nullptr, ...)), so every response filter sees it, the one that sent it
    // included (a Wasm filter whose request headers it never saw is not entered: WasmHttpFilter).
    this.encodingStarted = true;
    this.encoder.headers(headers, headersOnly);
    if (!headersOnly) this.encoder.data(body, true);
  }

  /**
   * http/utility.cc prepareLocalReply / encodeLocalReply for a gRPC request: a trailers-only response, one
   * HEADERS block ending the stream, with `:status` 200, `content-type: application/grpc`, `grpc-status`
   * (unless the reply's headers carry one: the plugin's grpc_status, else Grpc::Utility::httpToGrpcStatus of
   * the HTTP status) and the body as a percent-encoded `grpc-message` (not for HEAD); no content-length.
   */
  private sendGrpcLocal(spec: LocalReplySpec, headers: HeaderList, body: Buffer, first: boolean): void {
    headers[0]![1] = "200";
    setHeader(headers, "content-type", "application/grpc");
    if (!getHeader(headers, "grpc-status"))
      setHeader(headers, "grpc-status", String(spec.grpcStatus ?? httpToGrpcStatus(spec.status)));
    if (body.length > 0 && !this.isHeadRequest) setHeader(headers, "grpc-message", grpcPercentEncode(body));
    removeHeader(headers, "content-length");
    if (this.res.headersSent || !first) {
      this.resetDownstream();
      return;
    }
    if (this.encodingStarted) {
      this.encoder.aborted = true;
      this.writeResponseHeaders(headers, true);
      return;
    }
    this.encodingStarted = true;
    this.encoder.headers(headers, true);
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
    // conn_manager_impl.cc ActiveStream::encodeHeaders, once the response filters ran: `date` unless the
    // response has one, then `server` (server_header_transformation OVERWRITE, the default). They go into the
    // response headers themselves, so access logs and a plugin's on_log see them as in Envoy.
    let hasDate = false;
    let hasLength = false;
    for (const [n] of headers) {
      if (n === "date") hasDate = true;
      else if (n === "content-length" || n === "transfer-encoding") hasLength = true;
    }
    if (!hasDate) headers.push(["date", new Date().toUTCString()]);
    setHeader(headers, "server", this.ctx.config.serverName);
    const flat: string[] = [];
    for (const [n, v] of headers) if (n[0] !== ":") flat.push(n, v);
    // http1/codec_impl.cc StreamEncoderImpl::encodeHeadersBase: a headers-only response without a length
    // gets an explicit `content-length: 0` on the wire (not for HEAD, 1xx, 204, 304); node would chunk it.
    if (
      !this.h2 &&
      endStream &&
      !hasLength &&
      !this.isHeadRequest &&
      status >= 200 &&
      status !== 204 &&
      status !== 304
    )
      flat.push("content-length", "0");
    // conn_manager_impl.cc encodeHeaders: a response before the whole request arrived ends the HTTP/1
    // connection ("we don't want to wait around for the request to finish").
    if (!this.remoteComplete) this.res.shouldKeepAlive = false;
    this.streamInfo.firstDownstreamTxMs = performance.now();
    // Response trailers come only from an HTTP/2 upstream; a local reply or an HTTP/1 upstream has none.
    if (this.h2)
      this.h2.respond(status, flat, endStream, !this.localReplySent && this.router.upstreamIsHttp2);
    else {
      this.res.writeHead(status, flat);
      if (endStream) this.res.end();
    }
  }

  /**
   * Response trailers end the response: sent on HTTP/2; on HTTP/1 only with enable_trailers and a chunked
   * body (http1/codec_impl.cc StreamEncoderImpl::encodeTrailers), else the body ends without them.
   */
  writeResponseTrailers(trailers: HeaderList): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    this.streamInfo.responseTrailers = trailers;
    if (this.h2) this.h2.endWithTrailers(trailers);
    else {
      if (this.ctx.config.http1EnableTrailers && this.http1Request) {
        const pairs: Array<[string, string]> = [];
        for (const [n, v] of trailers) if (n[0] !== ":") pairs.push([n, v]);
        res.addTrailers(pairs);
      }
      res.end();
    }
  }

  /** Chunked HTTP/1 request trailers, when the codec keeps them (enable_trailers). */
  private http1Trailers(): HeaderList | undefined {
    const req = this.http1Request;
    if (!req || !this.ctx.config.http1EnableTrailers || req.rawTrailers.length === 0) return undefined;
    const list: HeaderList = [];
    const raw = req.rawTrailers;
    for (let i = 0; i < raw.length; i += 2) list.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
    return list;
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
      if (this.h2?.resetByPeer) {
        // The client reset the stream (RST_STREAM) on a live connection: the HTTP/2 codec reports a remote
        // reset ("http2.remote_reset", Http2ResponseCodeDetailValues) and the stream is flagged DR
        // (DownstreamRemoteReset), as in conn_manager_impl.cc ActiveStream::onResetStream.
        info.setFlag("DR");
        info.responseCodeDetails = "http2.remote_reset";
        this.ctx.stats.counter(`http.${this.ctx.config.statPrefix}.downstream_rq_rx_reset`).inc();
      } else {
        info.setFlag("DC");
        if (!info.responseCodeDetails) info.responseCodeDetails = "downstream_remote_disconnect";
      }
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
      connection.bytesReadAtIdle = connection.socket.bytesRead;
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
