/**
 * One downstream HTTP request: Envoy's ActiveStream + FilterManager + router in one place. Headers and
 * body pass through the filter chain (request in order, response in reverse), then to the upstream
 * chosen by the route; failures become Envoy's local replies with its response flags.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import type { UpstreamCluster, UpstreamHost } from "../cluster/upstream-cluster.ts";
import {
  sendUpstreamRequest,
  type UpstreamRequestSpec,
  UpstreamResetError,
  type UpstreamResponse,
} from "../cluster/upstream-request.ts";
import type { RetryPolicyConfig } from "../config/model.ts";
import type { ResponseFlag } from "../stream-info.ts";
import { StreamInfo } from "../stream-info.ts";
import { FilterIteration } from "./filter-iteration.ts";
import {
  applyHeaderOptions,
  getHeader,
  type HeaderList,
  isHopByHop,
  removeHeader,
  setHeader,
} from "./header-list.ts";
import type { HttpFilter, HttpFilterCallbacks } from "./http-filter.ts";
import type { HttpListenerContext } from "./http-listener-context.ts";
import { LOCAL_REPLIES, type LocalReplySpec, upstreamResetReply } from "./local-reply.ts";
import { mutateRequestHeaders } from "./request-headers.ts";
import type { SelectedRoute } from "./route-table.ts";

const EMPTY = Buffer.alloc(0);

export class HttpStream implements HttpFilterCallbacks {
  readonly streamInfo: StreamInfo;
  private readonly filters: HttpFilter[];
  private readonly decoder: FilterIteration;
  private readonly encoder: FilterIteration;
  private requestHeadersValue: HeaderList = [];
  private responseHeadersValue: HeaderList | undefined;
  private routeCache: SelectedRoute | undefined | null = null;
  private upstreamBody: PassThrough | undefined;
  private upstreamAbort: EventEmitter | undefined;
  /** True once the upstream exchange ended (response complete or failed): nothing left to cancel. */
  private upstreamDone = false;
  private upstreamResponse: UpstreamResponse | undefined;
  private cluster: UpstreamCluster | undefined;
  private routeTimer: NodeJS.Timeout | undefined;
  private lastActivityMs = Date.now();
  private encodingStarted = false;
  private complete = false;
  private localReplySent = false;
  private resetByProxy = false;

  constructor(
    private readonly ctx: HttpListenerContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    connection: { id: number; remote: string; local: string },
  ) {
    this.streamInfo = new StreamInfo(connection.id, connection.remote, connection.local, ctx.listenerName);
    this.streamInfo.protocol = `HTTP/${req.httpVersion}`;
    this.filters = ctx.filterFactories.map((make) => make(this));
    const limit = ctx.config.bufferLimitBytes;
    this.decoder = new FilterIteration(
      this.filters.map((f) => ({
        headers: (h, e) => f.decodeHeaders(h, e),
        data: (b, e) => f.decodeData(b, e),
        drain: () => f.drainDecoded(),
      })),
      { headers: (h, e) => this.routeRequest(h, e), data: (c, e) => this.forwardRequestData(c, e) },
      limit,
      () => this.sendLocal(LOCAL_REPLIES.requestTooLarge),
    );
    this.encoder = new FilterIteration(
      this.filters
        .slice()
        .reverse()
        .map((f) => ({
          headers: (h, e) => f.encodeHeaders(h, e),
          data: (b, e) => f.encodeData(b, e),
          drain: () => f.drainEncoded(),
        })),
      { headers: (h, e) => this.writeResponseHeaders(h, e), data: (c, e) => this.writeResponseData(c, e) },
      limit,
      () => this.onResponseOverflow(),
    );
  }

  /** Starts processing: called once per request by the listener. */
  start(): void {
    const { req, res, ctx } = this;
    const ls = ctx.listenerStats;
    ls.rqTotal.inc();
    ls.rqHttp1Total.inc();
    ls.rqActive.add(1);
    const headers: HeaderList = [
      [":authority", req.headers.host ?? ""],
      [":path", req.url ?? "/"],
      [":method", req.method ?? "GET"],
      [":scheme", "http"],
    ];
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name !== "host") headers.push([name, raw[i + 1]!]);
    }
    res.on("close", () => this.onDownstreamClose());
    if (raw.length / 2 > ctx.config.maxHeadersCount) {
      this.streamInfo.setFlag("DPE");
      this.sendLocal({ ...LOCAL_REPLIES.headersTooLarge, details: "http1.too_many_headers" });
      res.shouldKeepAlive = false;
      return;
    }
    mutateRequestHeaders(headers, ctx.config, req.socket.remoteAddress ?? "", "http");
    this.requestHeadersValue = headers;
    this.streamInfo.requestHeaders = headers;
    this.routeCache = this.ctx.routeTable.select(headers);
    const hasBody =
      req.headers["transfer-encoding"] !== undefined ||
      (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");
    req.on("data", (chunk: Buffer) => {
      this.streamInfo.bytesReceived += chunk.length;
      this.lastActivityMs = Date.now();
      this.decoder.data(chunk, false);
    });
    req.on("end", () => this.decoder.data(EMPTY, true));
    req.on("error", () => {});
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
    this.sendLocal(
      { status, body: typeof body === "string" ? body : Buffer.from(body).toString("latin1"), details },
      headers,
      typeof body === "string" ? undefined : Buffer.from(body),
    );
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
    this.streamInfo.setFlag("LR");
    this.abortUpstream();
    this.resetDownstream();
  }

  // ---- router ----------------------------------------------------------------------------------------

  private routeRequest(headers: HeaderList, endStream: boolean): void {
    const selected = this.route();
    if (!selected) {
      this.sendLocal(LOCAL_REPLIES.noRoute);
      return;
    }
    const { route, virtualHost } = selected;
    this.streamInfo.routeName = route.name;
    this.streamInfo.virtualHostName = virtualHost.name;
    if (route.action.kind === "direct_response") {
      const r = route.action.response;
      const body = r.body ? Buffer.from(r.body) : EMPTY;
      this.sendLocal({ status: r.status, body: "", details: "direct_response" }, [], body);
      return;
    }
    const action = route.action.route;
    let clusterName: string;
    const target = action.target;
    if (target.kind === "cluster") clusterName = target.cluster;
    else if (target.kind === "cluster_header") clusterName = getHeader(headers, target.header) ?? "";
    else {
      let pick = Math.floor(Math.random() * target.totalWeight);
      clusterName = target.clusters[target.clusters.length - 1]!.name;
      for (const c of target.clusters) {
        if (pick < c.weight) {
          clusterName = c.name;
          break;
        }
        pick -= c.weight;
      }
    }
    const cluster = this.ctx.clusters.get(clusterName);
    if (!cluster) {
      this.sendLocal(LOCAL_REPLIES.clusterNotFound);
      return;
    }
    this.streamInfo.upstreamCluster = cluster.name;
    this.cluster = cluster;
    const host = cluster.pickHost();
    if (!host) {
      cluster.inc("upstream_cx_none_healthy");
      this.sendLocal(LOCAL_REPLIES.noHealthyUpstream);
      return;
    }
    this.streamInfo.upstreamHost = host.label;

    // Router header edits: rewrites, x-envoy-* request headers, route header options.
    let path = getHeader(headers, ":path") ?? "/";
    if (action.prefixRewrite !== undefined && route.match.path.kind !== "regex") {
      setHeader(headers, "x-envoy-original-path", path);
      path = action.prefixRewrite + path.slice(route.match.path.value.length);
    } else if (action.regexRewrite) {
      const q = path.indexOf("?");
      const base = q >= 0 ? path.slice(0, q) : path;
      setHeader(headers, "x-envoy-original-path", path);
      path =
        base.replace(action.regexRewrite.pattern, action.regexRewrite.substitution) +
        (q >= 0 ? path.slice(q) : "");
    }
    let authority = getHeader(headers, ":authority") ?? "";
    if (action.hostRewriteLiteral !== undefined) authority = action.hostRewriteLiteral;
    else if (action.autoHostRewrite && cluster.config.type !== "STATIC")
      authority = cluster.config.endpoints[0]!.host;
    if (authority !== getHeader(headers, ":authority")) {
      setHeader(headers, "x-forwarded-host", getHeader(headers, ":authority") ?? "");
      setHeader(headers, ":authority", authority);
    }
    setHeader(headers, ":path", path);
    if (action.timeoutMs > 0)
      setHeader(headers, "x-envoy-expected-rq-timeout-ms", String(Math.round(action.timeoutMs)));
    const expand = (v: string) => v;
    for (const name of route.requestHeadersToRemove) removeHeader(headers, name);
    applyHeaderOptions(headers, route.requestHeadersToAdd, expand);
    applyHeaderOptions(headers, virtualHost.requestHeadersToAdd, expand);
    applyHeaderOptions(headers, this.ctx.routeTable.config.requestHeadersToAdd, expand);

    const upstreamHeaders: HeaderList = [];
    for (const [n, v] of headers)
      if (n[0] !== ":" && !isHopByHop(n) && n !== "host") upstreamHeaders.push([n, v]);
    // A streamed body without content-length goes out chunked (undici's default).
    if (!endStream) this.upstreamBody = new PassThrough();
    cluster.active++;
    if (endStream) this.armRouteTimer(action.timeoutMs);
    this.routeTimeoutMs = action.timeoutMs;
    this.upstreamSpec = {
      method: getHeader(headers, ":method") ?? "GET",
      path,
      authority,
      scheme: "http",
      headers: upstreamHeaders,
      body: this.upstreamBody,
    };
    // Retries resend the request, so only requests without a body are retried here.
    this.retriesLeft = endStream ? (action.retryPolicy?.numRetries ?? 0) : 0;
    this.sendAttempt(host);
  }

  private upstreamSpec: UpstreamRequestSpec | undefined;
  private retriesLeft = 0;
  private retried = false;

  /** One try of the upstream request to `host`. */
  private sendAttempt(host: UpstreamHost): void {
    const cluster = this.cluster!;
    this.streamInfo.upstreamHost = host.label;
    const abort = new EventEmitter();
    this.upstreamAbort = abort;
    this.upstreamDone = false;
    cluster.countRequest();
    this.streamInfo.upstreamRequestStartNs = process.hrtime.bigint();
    sendUpstreamRequest(cluster, host, this.upstreamSpec!, abort).then(
      (response) => {
        if (this.shouldRetry(undefined, response.status)) {
          response.body.resume();
          this.retry();
          return;
        }
        if (this.retried && response.status >= 500) this.streamInfo.setFlag("URX");
        this.onUpstreamResponse(response);
      },
      (err) => {
        if (this.shouldRetry(err instanceof UpstreamResetError ? err : undefined, undefined)) this.retry();
        else this.onUpstreamError(err);
      },
    );
  }

  private shouldRetry(reset: UpstreamResetError | undefined, status: number | undefined): boolean {
    const policy = this.selectedRetryPolicy();
    if (!policy || this.retriesLeft <= 0 || this.complete || this.localReplySent) return false;
    const on = policy.retryOn;
    if (reset) {
      if (reset.reason === "local reset") return false;
      const connectFailure = reset.reason === "connection failure" || reset.reason === "connection timeout";
      return (
        on.has("5xx") ||
        on.has("gateway-error") ||
        on.has("reset") ||
        (connectFailure && on.has("connect-failure"))
      );
    }
    if (status === undefined) return false;
    return (
      (on.has("5xx") && status >= 500) ||
      (on.has("gateway-error") && status >= 502 && status <= 504) ||
      (on.has("retriable-status-codes") && policy.retriableStatusCodes.includes(status))
    );
  }

  private selectedRetryPolicy(): RetryPolicyConfig | undefined {
    const action = this.routeCache?.route.action;
    return action?.kind === "route" ? action.route.retryPolicy : undefined;
  }

  private retry(): void {
    this.retriesLeft--;
    this.retried = true;
    this.cluster!.inc("upstream_rq_retry");
    // Envoy's default back-off starts at 25 ms (jittered); one fixed step is enough locally.
    setTimeout(() => {
      if (this.complete || this.localReplySent) return;
      const host = this.cluster!.pickHost();
      if (!host) {
        this.sendLocal(LOCAL_REPLIES.noHealthyUpstream);
        return;
      }
      this.sendAttempt(host);
    }, 25);
  }

  private routeTimeoutMs = 0;

  private forwardRequestData(chunk: Buffer, endStream: boolean): void {
    const body = this.upstreamBody;
    if (!body) return;
    if (chunk.length > 0 && !body.write(chunk)) {
      this.req.pause();
      body.once("drain", () => this.req.resume());
    }
    if (endStream) {
      body.end();
      this.armRouteTimer(this.routeTimeoutMs);
    }
  }

  private armRouteTimer(timeoutMs: number): void {
    if (timeoutMs <= 0 || this.routeTimer || this.complete) return;
    this.routeTimer = setTimeout(() => this.onRouteTimeout(), timeoutMs);
  }

  private onRouteTimeout(): void {
    this.cluster?.inc("upstream_rq_timeout");
    this.abortUpstream();
    if (!this.encodingStarted) this.sendLocal(LOCAL_REPLIES.upstreamTimeout);
    else {
      this.streamInfo.setFlag("UT");
      this.resetDownstream();
    }
  }

  private onUpstreamResponse(response: UpstreamResponse): void {
    if (this.complete || this.localReplySent) {
      response.body.destroy();
      return;
    }
    this.upstreamResponse = response;
    this.streamInfo.upstreamResponseStartNs = process.hrtime.bigint();
    const cluster = this.cluster!;
    cluster.countResponse(
      response.status,
      Number(
        (this.streamInfo.upstreamResponseStartNs - this.streamInfo.upstreamRequestStartNs!) / 1_000_000n,
      ),
    );
    const headers: HeaderList = [[":status", String(response.status)]];
    for (const pair of response.headers) if (!isHopByHop(pair[0])) headers.push(pair);
    const serviceMs = Number(
      (this.streamInfo.upstreamResponseStartNs - this.streamInfo.upstreamRequestStartNs!) / 1_000_000n,
    );
    setHeader(headers, "x-envoy-upstream-service-time", String(serviceMs));
    this.applyResponseHeaderOptions(headers);
    const method = getHeader(this.requestHeadersValue, ":method");
    const noBody =
      method === "HEAD" ||
      response.status === 204 ||
      response.status === 304 ||
      getHeader(headers, "content-length") === "0";
    this.encodingStarted = true;
    const body = response.body;
    body.on("data", (chunk: Buffer) => {
      this.lastActivityMs = Date.now();
      this.encoder.data(chunk, false);
    });
    body.on("end", () => {
      this.upstreamDone = true;
      this.clearRouteTimer();
      this.encoder.data(EMPTY, true);
    });
    body.on("error", () => {
      if (this.complete) return;
      // The upstream went away mid-body: Envoy resets the downstream stream.
      this.streamInfo.setFlag("UC");
      this.clearRouteTimer();
      this.resetDownstream();
    });
    this.encoder.headers(headers, noBody);
    if (noBody) body.resume();
  }

  private applyResponseHeaderOptions(headers: HeaderList): void {
    setHeader(headers, "server", this.ctx.config.serverName);
    const selected = this.routeCache;
    if (!selected) return;
    for (const name of selected.route.responseHeadersToRemove) removeHeader(headers, name);
    const expand = (v: string) => v;
    applyHeaderOptions(headers, selected.route.responseHeadersToAdd, expand);
    applyHeaderOptions(headers, selected.virtualHost.responseHeadersToAdd, expand);
    applyHeaderOptions(headers, this.ctx.routeTable.config.responseHeadersToAdd, expand);
  }

  private onUpstreamError(err: unknown): void {
    this.upstreamDone = true;
    if (this.complete || this.localReplySent) return;
    const reset =
      err instanceof UpstreamResetError ? err : new UpstreamResetError("connection termination", "");
    this.cluster?.inc(
      reset.reason === "connection failure" || reset.reason === "connection timeout"
        ? "upstream_cx_connect_fail"
        : "upstream_rq_rx_reset",
    );
    if (reset.reason === "local reset") return;
    this.streamInfo.upstreamTransportFailureReason = reset.transportFailureReason;
    this.clearRouteTimer();
    if (this.retried) {
      this.streamInfo.setFlag("URX");
      this.cluster?.inc("upstream_rq_retry_limit_exceeded");
    }
    this.sendLocal(upstreamResetReply(reset.reason, reset.transportFailureReason, this.retried));
  }

  private abortUpstream(): void {
    if (this.upstreamDone || !this.upstreamAbort) return;
    this.upstreamDone = true;
    this.upstreamBody?.destroy();
    this.upstreamAbort.emit("abort");
    this.upstreamResponse?.body.destroy();
  }

  private clearRouteTimer(): void {
    if (this.routeTimer) clearTimeout(this.routeTimer);
    this.routeTimer = undefined;
  }

  /**
   * Envoy's stream_idle_timeout, checked by the listener's periodic sweep (one timer per listener rather
   * than one per request). Returns true when the stream timed out.
   */
  checkIdle(nowMs: number, idleTimeoutMs: number): boolean {
    if (this.complete || nowMs - this.lastActivityMs < idleTimeoutMs) return false;
    this.abortUpstream();
    if (!this.encodingStarted) this.sendLocal(LOCAL_REPLIES.streamIdleTimeout);
    else {
      this.streamInfo.setFlag("SI");
      this.resetDownstream();
    }
    return true;
  }

  // ---- responses -------------------------------------------------------------------------------------

  /** Envoy's local reply: runs through the response filters unless the response is already underway. */
  private sendLocal(spec: LocalReplySpec, extraHeaders: HeaderList = [], rawBody?: Buffer): void {
    if (this.complete) return;
    const first = !this.localReplySent;
    this.localReplySent = true;
    this.decoder.aborted = true;
    if (spec.flag) this.streamInfo.setFlag(spec.flag as ResponseFlag);
    this.streamInfo.responseCodeDetails = spec.details;
    this.clearRouteTimer();
    this.abortUpstream();
    const body = rawBody ?? Buffer.from(spec.body, "utf8");
    const headers: HeaderList = [[":status", String(spec.status)]];
    for (const pair of extraHeaders) headers.push(pair);
    if (body.length > 0 && getHeader(headers, "content-type") === undefined)
      headers.push(["content-type", "text/plain"]);
    setHeader(headers, "content-length", String(body.length));
    if (this.res.headersSent || !first) {
      // Too late for a reply: Envoy resets the stream.
      this.resetDownstream();
      return;
    }
    if (this.encodingStarted) {
      // A reply during response processing bypasses the (already running) response filters.
      setHeader(headers, "server", this.ctx.config.serverName);
      this.encoder.aborted = true;
      this.writeResponseHeaders(headers, body.length === 0);
      if (body.length > 0) this.writeResponseData(body, true);
      return;
    }
    this.encodingStarted = true;
    setHeader(headers, "server", this.ctx.config.serverName);
    this.encoder.headers(headers, body.length === 0);
    if (body.length > 0) this.encoder.data(body, true);
  }

  private onResponseOverflow(): void {
    if (!this.res.headersSent) {
      this.localReplySent = false;
      this.encodingStarted = true;
      this.sendLocal(LOCAL_REPLIES.responseTooLarge);
    } else this.resetDownstream();
  }

  private writeResponseHeaders(headers: HeaderList, endStream: boolean): void {
    if (this.res.headersSent || this.res.destroyed) return;
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
    this.streamInfo.firstDownstreamTxNs = process.hrtime.bigint();
    this.res.writeHead(status, flat);
    if (endStream) this.res.end();
  }

  private writeResponseData(chunk: Buffer, endStream: boolean): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    if (chunk.length > 0) {
      this.streamInfo.bytesSent += chunk.length;
      if (!res.write(chunk)) {
        const body = this.upstreamResponse?.body;
        if (body && !body.isPaused()) {
          body.pause();
          res.once("drain", () => body.resume());
        }
      }
    }
    if (endStream) res.end();
  }

  /** Envoy resets the downstream stream (the proxy's decision, so not a DC). */
  private resetDownstream(): void {
    this.resetByProxy = true;
    this.res.destroy();
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
    this.clearRouteTimer();
    this.abortUpstream();
    this.decoder.aborted = true;
    this.encoder.aborted = true;
    if (this.cluster) this.cluster.active--;
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
    this.ctx.activeStreams.delete(this);
  }
}
