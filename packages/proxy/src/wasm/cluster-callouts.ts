/**
 * The host's `Upstream`: `proxy_http_call` goes to a configured cluster over the real network (HTTP/1.1 or
 * HTTP/2 as the cluster says), gRPC calls over HTTP/2. An unknown cluster is BAD_ARGUMENT (the host checks
 * `hasCluster`); a cluster with no healthy host refuses the call at once (`canStart`).
 *
 * Envoy sends a callout through its async client, which runs the router filter, so a call that fails is
 * answered as the router answers a request (http/async_client_impl.cc AsyncStreamImpl::sendLocalReply hands
 * the router's local reply to the caller as a response):
 * - no healthy host: the router replies inline, AsyncClientImpl::send returns null and wasm context.cc
 *   Context::httpCall / grpcCall / grpcStream answer INTERNAL_FAILURE with no callback;
 * - a reset before the response headers (connect failure, connection closed, protocol error): the router's
 *   503 (502 for a protocol error) "upstream connect error or disconnect/reset before headers..." reply
 *   (router.cc Filter::onUpstreamReset / onUpstreamAbort), delivered as a successful response;
 * - a reset after the response headers: the router resets the async stream, the caller's onFailure
 *   (Context::onHttpCallFailure: no headers, BROKEN_CONNECTION).
 * A call cancelled by the end of its plugin's root context or VM stops its upstream exchange (Envoy's
 * Context::~Context cancels the async request), and so does its timeout (router.cc onResponseTimeout resets
 * the upstream request; the host answers the plugin with the router's 504).
 */
import type { GrpcCallout, HttpCallout, Upstream } from "@proxy-wasm-ts/host";
import type { ClusterManager } from "../cluster/cluster-manager.ts";
import type { UpstreamCluster } from "../cluster/upstream-cluster.ts";
import {
  type HeaderList,
  startUpstreamExchange,
  type UpstreamExchange,
  type UpstreamResetError,
  type UpstreamResponseHandler,
} from "../cluster/upstream-request.ts";
import { isHopByHop } from "../http/header-list.ts";
import { upstreamResetReply } from "../http/local-reply.ts";
import { startGrpcCallout } from "./grpc-callouts.ts";

const decoder = new TextDecoder();

/** One `proxy_http_call` in flight: collects the whole response, as Envoy's AsyncRequestImpl buffers it. */
class HttpCalloutExchange implements UpstreamResponseHandler {
  private status = 0;
  private headers: HeaderList = [];
  private trailers: HeaderList = [];
  private readonly chunks: Buffer[] = [];
  private readonly startMs = performance.now();
  private timer: NodeJS.Timeout | undefined;
  exchange: UpstreamExchange | undefined;

  constructor(
    private readonly cluster: UpstreamCluster,
    private readonly callout: HttpCallout,
  ) {}

  /** Starts the exchange; it is aborted when the call is cancelled or its timeout passes. */
  start(exchange: UpstreamExchange): void {
    this.exchange = exchange;
    this.callout.onCancel = () => this.abort();
    if (this.callout.timeoutMs > 0) {
      this.timer = setTimeout(() => this.abort(), this.callout.timeoutMs);
      this.timer.unref();
    }
  }

  private abort(): void {
    clearTimeout(this.timer);
    this.exchange?.abort();
  }

  /** True when the call already ended (timed out on the host's side): the exchange is stopped. */
  private gone(): boolean {
    if (!this.callout.finished) return false;
    this.exchange?.abort();
    return true;
  }

  onUpstreamHeaders(status: number, headers: HeaderList): void {
    if (this.gone()) return;
    this.cluster.countResponse(status, Math.floor(performance.now() - this.startMs));
    this.status = status;
    this.headers = headers;
  }

  onUpstreamTrailers(trailers: HeaderList): void {
    if (!this.gone()) this.trailers = trailers;
  }

  onUpstreamData(chunk: Buffer): void {
    if (!this.gone()) this.chunks.push(chunk);
  }

  onUpstreamEnd(): void {
    clearTimeout(this.timer);
    this.callout.respond({
      headers: [[":status", String(this.status)], ...this.headers],
      body: new Uint8Array(Buffer.concat(this.chunks)),
      trailers: this.trailers,
    });
  }

  onUpstreamReset(reset: UpstreamResetError, afterHeaders: boolean): void {
    clearTimeout(this.timer);
    this.cluster.countReset(reset);
    if (afterHeaders) {
      this.callout.fail(reset.message);
      return;
    }
    // http/utility.cc prepareLocalReply: :status, content-length, content-type text/plain.
    const reply = upstreamResetReply(reset.reason, reset.transportFailureReason);
    this.callout.respond({
      headers: [
        [":status", String(reply.status)],
        ["content-length", String(Buffer.byteLength(reply.body))],
        ["content-type", "text/plain"],
      ],
      body: reply.body,
    });
  }
}

export class ClusterCallouts implements Upstream {
  constructor(private readonly clusters: ClusterManager) {}

  hasCluster(name: string): boolean {
    return this.clusters.get(name) !== undefined;
  }

  /**
   * Asked once per call a plugin starts: false (and router.cc's upstream_cx_none_healthy) when the cluster
   * has no healthy host, which the host answers INTERNAL_FAILURE.
   */
  canStart(name: string): boolean {
    const cluster = this.clusters.get(name);
    if (!cluster || cluster.hostCount > 0) return true;
    cluster.inc("upstream_cx_none_healthy");
    return false;
  }

  httpCall(callout: HttpCallout): void {
    const cluster = this.clusters.get(callout.cluster)!;
    const host = cluster.pickHost();
    if (!host) {
      // Only an embedder that starts calls without asking canStart gets here.
      callout.fail("no healthy upstream");
      return;
    }
    let method = "GET";
    let path = "/";
    let authority = "";
    const headers: HeaderList = [];
    for (const [n, v] of callout.headers) {
      const name = decoder.decode(n).toLowerCase();
      const value = decoder.decode(v);
      if (name === ":method") method = value;
      else if (name === ":path") path = value;
      else if (name === ":authority" || name === "host") authority = value;
      else if (name[0] !== ":" && !isHopByHop(name)) headers.push([name, value]);
    }
    if (callout.body.length > 0) headers.push(["content-length", String(callout.body.length)]);
    cluster.countRequest();
    const handler = new HttpCalloutExchange(cluster, callout);
    const exchange = startUpstreamExchange(
      cluster,
      host,
      {
        method,
        path,
        authority,
        scheme: cluster.config.tls ? "https" : "http",
        headers,
        body: callout.body.length > 0 ? callout.body : undefined,
      },
      handler,
    );
    handler.start(exchange);
  }

  grpcCall(callout: GrpcCallout): void {
    void startGrpcCallout(this.clusters.get(callout.cluster)!, callout);
  }
}
