/**
 * The router filter at the end of the HTTP filter chain: picks the cluster for the selected route
 * (cluster, cluster_header, weighted_clusters) or answers direct_response, applies rewrites and Envoy's
 * x-envoy-* request headers, sends the request upstream (with retries and the route timeout) and hands the
 * response back to the stream. Failures become Envoy's local replies.
 */
import { PassThrough } from "node:stream";
import type { UpstreamCluster, UpstreamHost } from "../cluster/upstream-cluster.ts";
import {
  startUpstreamExchange,
  type UpstreamExchange,
  type UpstreamRequestSpec,
  type UpstreamResetError,
  type UpstreamResponseHandler,
} from "../cluster/upstream-request.ts";
import type { RetryPolicyConfig } from "../config/model.ts";
import type { ResponseFlag, StreamInfo } from "../stream-info.ts";
import {
  applyHeaderOptions,
  getHeader,
  type HeaderList,
  isHopByHop,
  removeHeader,
  setHeader,
} from "./header-list.ts";
import type { HttpListenerContext } from "./http-listener-context.ts";
import { LOCAL_REPLIES, type LocalReplySpec, upstreamResetReply } from "./local-reply.ts";
import type { SelectedRoute } from "./route-table.ts";

const EMPTY = Buffer.alloc(0);
const expandNothing = (v: string) => v;

/** What the router needs from its stream. */
export interface RouterCallbacks {
  readonly streamInfo: StreamInfo;
  /** The route for the current request headers (cached until clear_route_cache). */
  route(): SelectedRoute | undefined;
  /** Answer locally (NR, NC, UH, UF, UT, direct_response ...). */
  sendLocal(spec: LocalReplySpec, headers?: HeaderList, body?: Buffer): void;
  /** Upstream response headers and body, into the response filters. */
  upstreamResponseHeaders(headers: HeaderList, endStream: boolean): void;
  responseData(chunk: Buffer, endStream: boolean): void;
  /** Upstream response trailers (they end the response). */
  responseTrailers(trailers: HeaderList): void;
  /** The response already started and cannot be replaced: reset the downstream stream with `flag`. */
  resetDownstream(flag: ResponseFlag): void;
  /** True once response headers went into the response filters. */
  readonly responseStarted: boolean;
  /** True once the stream ended or was answered locally. */
  readonly finished: boolean;
  /** Flow control of the downstream request body. */
  pauseRequest(): void;
  resumeRequest(): void;
  /** Marks the stream active (for stream_idle_timeout). */
  touch(): void;
  /** The whole request went through the filters to the router: request_timeout no longer applies. */
  disarmRequestTimeout(): void;
  /**
   * Envoy's check of the request headers on their way to the upstream codec: answers (503 DPE) and returns
   * true when a filter left an invalid header.
   */
  rejectInvalidRequestHeaders(headers: HeaderList): boolean;
  /** Relays an upstream `100 Continue` to the client (proxy_100_continue). */
  encode100Continue(): void;
}

export class Router implements UpstreamResponseHandler {
  private cluster: UpstreamCluster | undefined;
  private body: PassThrough | undefined;
  private exchange: UpstreamExchange | undefined;
  /** True once the upstream exchange ended (response complete or failed): nothing left to cancel. */
  private done = false;
  /** Response data is held back for the downstream (see pauseResponse). */
  private responsePaused = false;
  private noBody = false;
  /** Upstream trailers, delivered when the upstream stream ends. */
  private responseTrailers: HeaderList | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timeoutMs = 0;
  private spec: UpstreamRequestSpec | undefined;
  private retryPolicy: RetryPolicyConfig | undefined;
  private retriesLeft = 0;
  private retried = false;

  constructor(
    private readonly ctx: HttpListenerContext,
    private readonly stream: RouterCallbacks,
  ) {}

  /** The upstream speaks HTTP/2 (its response may end with trailers). */
  get upstreamIsHttp2(): boolean {
    return this.spec?.http2 === true;
  }

  /** Request headers leave the filter chain (`endStream`: no body follows). */
  headers(headers: HeaderList, endStream: boolean): void {
    if (endStream) this.stream.disarmRequestTimeout();
    const info = this.stream.streamInfo;
    const selected = this.stream.route();
    if (!selected) {
      this.stream.sendLocal(LOCAL_REPLIES.noRoute);
      return;
    }
    const { route, virtualHost } = selected;
    info.routeName = route.name;
    info.virtualHostName = virtualHost.name;
    if (route.action.kind === "direct_response") {
      const r = route.action.response;
      // router.cc Filter::decodeHeaders: the direct response's modify_headers runs the route's
      // finalizeResponseHeaders (route, virtual host and route table response header options), so they come
      // right after `:status`, before content-length and content-type.
      const extra: HeaderList = [];
      this.applyResponseHeaderOptions(extra);
      this.stream.sendLocal(
        { status: r.status, body: "", details: "direct_response" },
        extra,
        r.body ? Buffer.from(r.body) : EMPTY,
      );
      return;
    }
    const action = route.action.route;
    const cluster = this.ctx.clusters.get(this.clusterName(action.target, headers));
    if (!cluster) {
      this.stream.sendLocal(LOCAL_REPLIES.clusterNotFound);
      return;
    }
    info.upstreamCluster = cluster.name;
    this.cluster = cluster;
    const host = cluster.pickHost();
    if (!host) {
      cluster.inc("upstream_cx_none_healthy");
      this.stream.sendLocal(LOCAL_REPLIES.noHealthyUpstream);
      return;
    }

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
    for (const name of route.requestHeadersToRemove) removeHeader(headers, name);
    applyHeaderOptions(headers, route.requestHeadersToAdd, expandNothing);
    applyHeaderOptions(headers, virtualHost.requestHeadersToAdd, expandNothing);
    applyHeaderOptions(headers, this.ctx.routeTable.config.requestHeadersToAdd, expandNothing);

    if (this.stream.rejectInvalidRequestHeaders(headers)) return;
    // `te: trailers` is the one hop-by-hop header Envoy forwards (conn_manager_utility.cc sanitizeTEHeader
    // keeps it; gRPC servers require it).
    const upstreamHeaders: HeaderList = [];
    for (const [n, v] of headers)
      if (n[0] !== ":" && n !== "host" && (!isHopByHop(n) || (n === "te" && v === "trailers")))
        upstreamHeaders.push([n, v]);
    // A streamed body without content-length goes out chunked (undici's default).
    if (!endStream) this.body = new PassThrough();
    cluster.active++;
    this.timeoutMs = action.timeoutMs;
    if (endStream) this.armTimer();
    this.spec = {
      method: getHeader(headers, ":method") ?? "GET",
      path,
      authority,
      scheme: "http",
      headers: upstreamHeaders,
      body: this.body,
      // cluster_info_impl.cc upstreamHttpProtocol: the downstream's protocol with use_downstream_protocol_config.
      http2: cluster.config.useDownstreamProtocol ? info.protocol === "HTTP/2" : cluster.config.http2,
    };
    this.retryPolicy = action.retryPolicy;
    // Retries resend the request, so only requests without a body are retried here.
    this.retriesLeft = endStream ? (action.retryPolicy?.numRetries ?? 0) : 0;
    this.attempt(host);
  }

  /** Request body leaving the filter chain. */
  data(chunk: Buffer, endStream: boolean): void {
    const body = this.body;
    if (!body) return;
    if (chunk.length > 0 && !body.write(chunk)) {
      this.stream.pauseRequest();
      body.once("drain", () => this.stream.resumeRequest());
    }
    if (endStream) {
      this.stream.disarmRequestTimeout();
      body.end();
      this.armTimer();
    }
  }

  /**
   * Request trailers leaving the filter chain: they end the request. An HTTP/2 upstream gets them; Envoy's
   * HTTP/1 codec drops them unless enable_trailers is set, and so does the HTTP/1 upstream here.
   */
  trailers(trailers: HeaderList): void {
    const body = this.body;
    if (!body || !this.spec) return;
    this.spec.trailers = trailers;
    this.stream.disarmRequestTimeout();
    body.end();
    this.armTimer();
  }

  /** Downstream is slower than upstream: hold the upstream body until `resume` (backpressure). */
  pauseResponse(resume: (go: () => void) => void): void {
    const exchange = this.exchange;
    if (!exchange || this.done || this.responsePaused) return;
    this.responsePaused = true;
    exchange.pause();
    resume(() => {
      this.responsePaused = false;
      exchange.resume();
    });
  }

  /** Cancels the upstream exchange and the route timer (local reply, downstream gone). */
  abort(): void {
    this.clearTimer();
    if (this.done || !this.exchange) return;
    this.done = true;
    this.body?.destroy();
    this.exchange.abort();
  }

  /** The stream is over: counts it out of the cluster's in-flight requests. */
  finish(): void {
    this.abort();
    if (this.cluster) this.cluster.active--;
  }

  private clusterName(target: RouteTargetOf, headers: HeaderList): string {
    if (target.kind === "cluster") return target.cluster;
    if (target.kind === "cluster_header") return getHeader(headers, target.header) ?? "";
    let pick = Math.floor(Math.random() * target.totalWeight);
    for (const c of target.clusters) {
      if (pick < c.weight) return c.name;
      pick -= c.weight;
    }
    return target.clusters[target.clusters.length - 1]!.name;
  }

  /** One try of the upstream request to `host`. */
  private attempt(host: UpstreamHost): void {
    const cluster = this.cluster!;
    const info = this.stream.streamInfo;
    info.upstreamHost = host.label;
    this.done = false;
    this.responsePaused = false;
    cluster.countRequest();
    info.upstreamRequestStartMs = performance.now();
    this.exchange = startUpstreamExchange(cluster, host, this.spec!, this);
  }

  private shouldRetry(reset: UpstreamResetError | undefined, status: number | undefined): boolean {
    const policy = this.retryPolicy;
    if (!policy || this.retriesLeft <= 0 || this.stream.finished) return false;
    const on = policy.retryOn;
    if (reset) {
      if (reset.reason === "local reset") return false;
      return (
        on.has("5xx") ||
        on.has("gateway-error") ||
        on.has("reset") ||
        (reset.connectFailure && on.has("connect-failure"))
      );
    }
    if (status === undefined) return false;
    return (
      (on.has("5xx") && status >= 500) ||
      (on.has("gateway-error") && status >= 502 && status <= 504) ||
      (on.has("retriable-status-codes") && policy.retriableStatusCodes.includes(status))
    );
  }

  private retry(): void {
    this.retriesLeft--;
    this.retried = true;
    this.cluster!.inc("upstream_rq_retry");
    // Envoy's default back-off starts at 25 ms (jittered); one fixed step is enough locally.
    setTimeout(() => {
      if (this.stream.finished) return;
      const host = this.cluster!.pickHost();
      if (!host) {
        this.stream.sendLocal(LOCAL_REPLIES.noHealthyUpstream);
        return;
      }
      this.attempt(host);
    }, 25);
  }

  // ---- UpstreamResponseHandler --------------------------------------------------------------------

  onUpstreamHeaders(status: number, upstreamHeaders: HeaderList, endStream = false): void {
    if (this.stream.finished) {
      // The downstream went away while the response head was on its way.
      this.abort();
      return;
    }
    if (this.shouldRetry(undefined, status)) {
      // Envoy resets the upstream request it retries.
      this.done = true;
      this.exchange!.abort();
      this.retry();
      return;
    }
    const info = this.stream.streamInfo;
    if (this.retried && status >= 500) info.setFlag("URX");
    info.upstreamResponseStartMs = performance.now();
    const serviceMs = Math.floor(info.upstreamResponseStartMs - info.upstreamRequestStartMs!);
    this.cluster!.countResponse(status, serviceMs);
    const headers: HeaderList = [[":status", String(status)]];
    for (const pair of upstreamHeaders) if (!isHopByHop(pair[0])) headers.push(pair);
    setHeader(headers, "x-envoy-upstream-service-time", String(serviceMs));
    this.applyResponseHeaderOptions(headers);
    this.noBody =
      endStream ||
      this.spec!.method === "HEAD" ||
      status === 204 ||
      status === 304 ||
      getHeader(headers, "content-length") === "0";
    this.stream.upstreamResponseHeaders(headers, this.noBody);
  }

  onUpstreamInformational(status: number): void {
    // router.cc onUpstream1xxHeaders hands a 100 to the stream, which relays it only with
    // proxy_100_continue (ActiveStreamDecoderFilter::encode1xxHeaders); other 1xx are dropped.
    if (status !== 100 || !this.ctx.config.proxy100Continue || this.done || this.stream.finished) return;
    this.stream.encode100Continue();
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.noBody || this.done) return;
    this.stream.touch();
    this.stream.responseData(chunk, false);
  }

  onUpstreamTrailers(trailers: HeaderList): void {
    if (this.done) return;
    this.responseTrailers = trailers;
  }

  onUpstreamEnd(): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    const trailers = this.responseTrailers;
    if (trailers) {
      this.responseTrailers = undefined;
      this.stream.responseTrailers(trailers);
    } else if (!this.noBody) this.stream.responseData(EMPTY, true);
  }

  onUpstreamReset(reset: UpstreamResetError, afterHeaders: boolean): void {
    if (this.done) return;
    if (!afterHeaders) {
      if (this.shouldRetry(reset, undefined)) {
        this.done = true;
        this.retry();
      } else this.onReset(reset);
      return;
    }
    this.done = true;
    if (this.stream.finished) return;
    // The upstream went away mid-body: Envoy resets the downstream stream.
    this.clearTimer();
    this.stream.resetDownstream("UC");
  }

  /**
   * The route's / virtual host's / table's response header options. `server` is not set here: the
   * connection manager sets it after the response filters (HttpStream.writeResponseHeaders), so plugins see
   * the upstream's own `server` header as they do in Envoy.
   */
  applyResponseHeaderOptions(headers: HeaderList): void {
    const selected = this.stream.route();
    if (!selected) return;
    for (const name of selected.route.responseHeadersToRemove) removeHeader(headers, name);
    applyHeaderOptions(headers, selected.route.responseHeadersToAdd, expandNothing);
    applyHeaderOptions(headers, selected.virtualHost.responseHeadersToAdd, expandNothing);
    applyHeaderOptions(headers, this.ctx.routeTable.config.responseHeadersToAdd, expandNothing);
  }

  private onReset(reset: UpstreamResetError): void {
    this.done = true;
    if (this.stream.finished) return;
    this.cluster?.countReset(reset);
    if (reset.reason === "local reset") return;
    const info = this.stream.streamInfo;
    info.upstreamTransportFailureReason = reset.transportFailureReason;
    this.clearTimer();
    if (this.retried) {
      info.setFlag("URX");
      this.cluster?.inc("upstream_rq_retry_limit_exceeded");
    }
    this.stream.sendLocal(upstreamResetReply(reset.reason, reset.transportFailureReason, this.retried));
  }

  private armTimer(): void {
    if (this.timeoutMs <= 0 || this.timer || this.stream.finished) return;
    this.timer = setTimeout(() => this.onTimeout(), this.timeoutMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onTimeout(): void {
    this.timer = undefined;
    this.cluster?.inc("upstream_rq_timeout");
    this.abort();
    if (!this.stream.responseStarted) this.stream.sendLocal(LOCAL_REPLIES.upstreamTimeout);
    else this.stream.resetDownstream("UT");
  }
}

type RouteTargetOf = Extract<SelectedRoute["route"]["action"], { kind: "route" }>["route"]["target"];
