/**
 * The host's `Upstream`: `proxy_http_call` goes to a configured cluster over the real network (HTTP/1.1 or
 * HTTP/2 as the cluster says), gRPC calls over HTTP/2. An unknown cluster is BAD_ARGUMENT (the host checks
 * `hasCluster`).
 */
import type { GrpcCallout, HttpCallout, Upstream } from "@proxy-wasm-ts/host";
import type { ClusterManager } from "../cluster/cluster-manager.ts";
import { fetchUpstream, type UpstreamResetError } from "../cluster/upstream-request.ts";
import { isHopByHop } from "../http/header-list.ts";
import { startGrpcCallout } from "./grpc-callouts.ts";

const decoder = new TextDecoder();

export class ClusterCallouts implements Upstream {
  constructor(private readonly clusters: ClusterManager) {}

  hasCluster(name: string): boolean {
    return this.clusters.get(name) !== undefined;
  }

  httpCall(callout: HttpCallout): void {
    const cluster = this.clusters.get(callout.cluster);
    const host = cluster?.pickHost();
    if (!cluster || !host) {
      callout.fail("no healthy upstream");
      return;
    }
    let method = "GET";
    let path = "/";
    let authority = "";
    const headers: Array<[string, string]> = [];
    for (const [n, v] of callout.headers) {
      const name = decoder.decode(n).toLowerCase();
      const value = decoder.decode(v);
      if (name === ":method") method = value;
      else if (name === ":path") path = value;
      else if (name === ":authority" || name === "host") authority = value;
      else if (name[0] !== ":" && !isHopByHop(name)) headers.push([name, value]);
    }
    if (callout.body.length > 0) headers.push(["content-length", String(callout.body.length)]);
    cluster.inc("upstream_rq_total");
    const { response } = fetchUpstream(
      cluster,
      host,
      {
        method,
        path,
        authority,
        scheme: "http",
        headers,
        body: callout.body.length > 0 ? callout.body : undefined,
      },
      () => !callout.finished,
    );
    response.then(
      (res) => {
        cluster.inc(`upstream_rq_${Math.floor(res.status / 100)}xx`);
        callout.respond({
          headers: [[":status", String(res.status)], ...res.headers],
          body: new Uint8Array(res.body),
        });
      },
      (reset: UpstreamResetError) => {
        const connectFailure = reset.reason === "connection failure" || reset.reason === "connection timeout";
        cluster.inc(connectFailure ? "upstream_cx_connect_fail" : "upstream_rq_rx_reset");
        callout.fail("reset");
      },
    );
  }

  grpcCall(callout: GrpcCallout): void {
    const cluster = this.clusters.get(callout.cluster);
    if (!cluster) {
      callout.close(14, `unknown cluster ${callout.cluster}`);
      return;
    }
    void startGrpcCallout(cluster, callout);
  }
}
