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

  hasCluster(name: string): boolean {
    return this.clusters === undefined || this.clusters.has(name);
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
