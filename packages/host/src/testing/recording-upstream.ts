/** An upstream that records callouts for a test to inspect and answer later. */
import type { GrpcCallout, HttpCallout } from "../callouts.ts";
import type { Upstream } from "../services.ts";

export class RecordingUpstream implements Upstream {
  /** Known clusters; undefined = every cluster exists. */
  clusters: Set<string> | undefined;
  /** Every HTTP callout, in order. */
  readonly httpCalls: HttpCallout[] = [];
  /** Every gRPC call or stream, in order. */
  readonly grpcCalls: GrpcCallout[] = [];
  /** Optional automatic answerers (run when the callout is dispatched). */
  onHttpCall: ((call: HttpCallout) => void) | undefined;
  onGrpcCall: ((call: GrpcCallout) => void) | undefined;

  constructor(clusters?: Iterable<string>) {
    this.clusters = clusters ? new Set(clusters) : undefined;
  }

  /** Clusters whose calls cannot start (INTERNAL_FAILURE), by kind. */
  private readonly unstartable = { http: new Set<string>(), grpc: new Set<string>() };

  hasCluster(name: string): boolean {
    return this.clusters === undefined || this.clusters.has(name);
  }

  /**
   * Makes calls to `cluster` (which exists) fail to start from now on: `proxy_http_call` (kind "http"),
   * `proxy_grpc_call` / `proxy_grpc_stream` (kind "grpc") or both answer INTERNAL_FAILURE, as Envoy does when
   * its async client cannot start the call. `allow` undoes it.
   */
  failDispatch(cluster: string, kind: "http" | "grpc" | "both" = "both"): void {
    if (kind !== "grpc") this.unstartable.http.add(cluster);
    if (kind !== "http") this.unstartable.grpc.add(cluster);
  }

  /** Lets calls to `cluster` start again (undoes `failDispatch`). */
  allow(cluster: string): void {
    this.unstartable.http.delete(cluster);
    this.unstartable.grpc.delete(cluster);
  }

  canStart(cluster: string, kind: "http" | "grpc"): boolean {
    return !this.unstartable[kind].has(cluster);
  }

  httpCall(callout: HttpCallout): void {
    this.httpCalls.push(callout);
    this.onHttpCall?.(callout);
  }

  grpcCall(callout: GrpcCallout): void {
    this.grpcCalls.push(callout);
    this.onGrpcCall?.(callout);
  }

  /** HTTP callouts not answered yet. */
  get pendingHttpCalls(): HttpCallout[] {
    return this.httpCalls.filter((c) => !c.finished);
  }

  /** gRPC calls not closed yet. */
  get pendingGrpcCalls(): GrpcCallout[] {
    return this.grpcCalls.filter((c) => !c.finished);
  }
}
