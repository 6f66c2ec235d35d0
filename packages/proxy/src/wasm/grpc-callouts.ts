/**
 * `proxy_grpc_call` / `proxy_grpc_stream` over the real network: an HTTP/2 stream to a host of the named
 * cluster (gRPC needs HTTP/2 whatever the cluster's HTTP options say), length-prefixed messages both ways,
 * status from the trailers. The `:authority` is the cluster name, as Envoy's own gRPC client sends it.
 */
import { type ClientHttp2Stream, constants as h2 } from "node:http2";
import type { GrpcCallout } from "@proxy-wasm-ts/host";
import type { UpstreamCluster } from "../cluster/upstream-cluster.ts";
import { classifyUpstreamError } from "../cluster/upstream-request.ts";
import { upstreamResetReply } from "../http/local-reply.ts";

const GRPC_UNAVAILABLE = 14;
const GRPC_INTERNAL = 13;
const decoder = new TextDecoder();

function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

function metadataPairs(headers: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, String(v)]);
  }
  return out;
}

/** Reads gRPC length-prefixed messages out of a byte stream that may split them anywhere. */
class MessageReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, deliver: (message: Uint8Array) => void): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + length) return;
      deliver(new Uint8Array(this.pending.subarray(5, 5 + length)));
      this.pending = this.pending.subarray(5 + length);
    }
  }
}

export async function startGrpcCallout(cluster: UpstreamCluster, callout: GrpcCallout): Promise<void> {
  const host = cluster.pickHost();
  if (!host) {
    callout.close(GRPC_UNAVAILABLE, "no healthy upstream");
    return;
  }
  let stream: ClientHttp2Stream;
  try {
    const session = await cluster.http2(host).acquire();
    if (callout.finished) return;
    const headers: Record<string, string | string[]> = {
      [h2.HTTP2_HEADER_METHOD]: "POST",
      [h2.HTTP2_HEADER_PATH]: `/${callout.service}/${callout.method}`,
      [h2.HTTP2_HEADER_AUTHORITY]: cluster.name,
      [h2.HTTP2_HEADER_SCHEME]: cluster.config.tls ? "https" : "http",
      "content-type": "application/grpc",
      te: "trailers",
    };
    if (callout.timeoutMs > 0) headers["grpc-timeout"] = `${Math.ceil(callout.timeoutMs)}m`;
    for (const [n, v] of callout.initialMetadata)
      headers[decoder.decode(n).toLowerCase()] = decoder.decode(v);
    stream = session.request(headers);
  } catch (err) {
    // Envoy's gRPC client runs over its HTTP async client: the router's reset reply reaches it as a gRPC
    // local reply, grpc-status from Utility::httpToGrpcStatus (503 and 502: UNAVAILABLE), the body as
    // grpc-message (router.cc onUpstreamReset, http/utility.cc prepareLocalReply for a gRPC request).
    const reset = classifyUpstreamError(err, false);
    cluster.countReset(reset);
    callout.close(GRPC_UNAVAILABLE, upstreamResetReply(reset.reason, reset.transportFailureReason).body);
    return;
  }
  cluster.countRequest();
  callout.onCancel = () => stream.close(h2.NGHTTP2_CANCEL);
  for (const m of callout.sent) stream.write(frame(m));
  if (!callout.streaming || callout.localClosed) stream.end();
  else {
    callout.onSend = (message, endOfStream) => {
      if (message.length > 0 || !endOfStream) stream.write(frame(message));
      if (endOfStream) stream.end();
    };
  }
  const reader = new MessageReader();
  let closed = false;
  const finish = (status: number, message: string) => {
    if (closed) return;
    closed = true;
    callout.close(status, message);
  };
  stream.on("response", (responseHeaders) => {
    const status = Number(responseHeaders[":status"]);
    if (status !== 200) {
      finish(GRPC_UNAVAILABLE, `upstream answered HTTP ${status}`);
      stream.close(h2.NGHTTP2_CANCEL);
      return;
    }
    const grpcStatus = responseHeaders["grpc-status"];
    callout.receiveInitialMetadata(metadataPairs(responseHeaders));
    if (grpcStatus !== undefined) {
      // Trailers-only response: the status came with the headers.
      finish(Number(grpcStatus), decodeURIComponent(String(responseHeaders["grpc-message"] ?? "")));
    }
  });
  stream.on("data", (chunk: Buffer) => {
    try {
      reader.push(chunk, (message) => callout.receive(message));
    } catch {
      finish(GRPC_INTERNAL, "malformed gRPC message");
    }
  });
  stream.on("trailers", (trailers) => {
    callout.receiveTrailingMetadata(metadataPairs(trailers));
    const status = trailers["grpc-status"];
    finish(
      status === undefined ? GRPC_INTERNAL : Number(status),
      decodeURIComponent(String(trailers["grpc-message"] ?? "")),
    );
  });
  stream.on("error", (err) => finish(GRPC_UNAVAILABLE, err.message));
  stream.on("close", () => finish(GRPC_UNAVAILABLE, "upstream closed the stream without a gRPC status"));
}
