/**
 * HTTP and gRPC callouts as promises. A call's token maps to its pending promise; the glue forwards the
 * host's proxy_on_http_call_response / proxy_on_grpc_* callbacks here, which settle it. Awaiting one in a
 * stream handler pauses the stream until the answer comes (see plugin.ts).
 */

import { BufferType, hostcall, MapType, Status, statusOf } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { readBuffer } from "./body.ts";
import { fromFlat, type HeaderList, type HeadersInit, serializePairs, toHeaderList } from "./header-pairs.ts";
import { decodeUtf8, encodeUtf8 } from "./text-encoding.ts";

/** Why a callout failed. */
export type CalloutFailure = "dispatch" | "reset" | "timeout";

/** A callout that got no answer: not dispatched, reset, or timed out. */
export class CalloutError extends Error {
  constructor(
    readonly reason: CalloutFailure,
    message: string,
  ) {
    super(message);
    this.name = "CalloutError";
  }
}

/** A gRPC call that ended with a status other than OK. */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`gRPC status ${code}${details ? `: ${details}` : ""}`);
    this.name = "GrpcError";
  }
}

/** Read-only headers of a callout answer. */
export class ResponseHeaders implements Iterable<[string, string]> {
  constructor(private readonly list: HeaderList) {}
  get(name: string): string | null {
    const lower = name.toLowerCase();
    return this.list.find(([key]) => key === lower)?.[1] ?? null;
  }
  has(name: string): boolean {
    return this.get(name) !== null;
  }
  entries(): HeaderList {
    return [...this.list];
  }
  [Symbol.iterator](): Iterator<[string, string]> {
    return this.list[Symbol.iterator]();
  }
}

/** The answer to an HTTP callout. */
export class CalloutResponse {
  constructor(
    readonly status: number,
    readonly headers: ResponseHeaders,
    readonly body: Uint8Array,
    readonly trailers: ResponseHeaders,
  ) {}
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  text(): string {
    return decodeUtf8(this.body);
  }
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/** An HTTP callout: the upstream cluster's request. */
export interface CalloutRequest {
  method?: string;
  path?: string;
  /** `:authority`; defaults to the cluster name. */
  authority?: string;
  scheme?: string;
  headers?: HeadersInit;
  body?: string | Uint8Array;
  trailers?: HeadersInit;
  /** Milliseconds (default 5000). */
  timeout?: number;
}

interface Pending {
  resolve(value: never): void;
  reject(error: Error): void;
  kind: "http" | "grpc";
}

const pending = new Map<number, Pending>();

const toBuffer = (data: string | Uint8Array | undefined): ArrayBuffer | null =>
  data === undefined
    ? null
    : ((typeof data === "string" ? encodeUtf8(data) : data.slice()).buffer as ArrayBuffer);

/** Envoy's router answers a callout timeout with this local reply (router.cc onResponseTimeout). */
function isRouterTimeoutReply(status: number, headers: HeaderList, body: Uint8Array): boolean {
  return (
    status === 504 &&
    decodeUtf8(body) === "upstream request timeout" &&
    headers.every(([name]) => name === ":status" || name === "content-length" || name === "content-type")
  );
}

/** Sends an HTTP callout to `cluster`; resolves with the answer, rejects with CalloutError. */
export function httpCall(cluster: string, request: CalloutRequest = {}): Promise<CalloutResponse> {
  const headers: HeaderList = [
    [":method", request.method ?? "GET"],
    [":path", request.path ?? "/"],
    [":authority", request.authority ?? cluster],
  ];
  if (request.scheme) headers.push([":scheme", request.scheme]);
  for (const [name, value] of toHeaderList(request.headers)) headers.push([name.toLowerCase(), value]);
  const result = hostcall(
    HostOp.HttpCall,
    cluster,
    serializePairs(headers),
    toBuffer(request.body),
    request.trailers ? serializePairs(toHeaderList(request.trailers)) : null,
    request.timeout ?? 5000,
  );
  const status = statusOf(result);
  if (status !== Status.Ok) {
    return Promise.reject(
      new CalloutError("dispatch", `HTTP callout to ${cluster} not dispatched (status ${status})`),
    );
  }
  return new Promise<CalloutResponse>((resolve, reject) => {
    pending.set(result as number, { resolve: resolve as Pending["resolve"], reject, kind: "http" });
  });
}

/** A unary gRPC call. */
export interface GrpcCallRequest {
  /** The cluster (or serialized GrpcService). */
  service: string;
  /** e.g. `helloworld.Greeter`. */
  serviceName: string;
  method: string;
  message: string | Uint8Array;
  metadata?: HeadersInit;
  /** Milliseconds (default 5000). */
  timeout?: number;
}

/** A unary gRPC call; resolves with the response message bytes, rejects with GrpcError or CalloutError. */
export function grpcCall(request: GrpcCallRequest): Promise<Uint8Array> {
  const result = hostcall(
    HostOp.GrpcCall,
    request.service,
    request.serviceName,
    request.method,
    serializePairs(toHeaderList(request.metadata)),
    toBuffer(request.message),
    request.timeout ?? 5000,
  );
  const status = statusOf(result);
  if (status !== Status.Ok) {
    return Promise.reject(
      new CalloutError(
        "dispatch",
        `gRPC call ${request.serviceName}/${request.method} not dispatched (status ${status})`,
      ),
    );
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    pending.set(result as number, { resolve: resolve as Pending["resolve"], reject, kind: "grpc" });
  });
}

/** Whether any callout is still waiting for its answer. */
export function hasPendingCallouts(): boolean {
  return pending.size > 0;
}

function take(token: number): Pending | undefined {
  const call = pending.get(token);
  pending.delete(token);
  return call;
}

function readMap(type: (typeof MapType)[keyof typeof MapType]): HeaderList {
  const result = hostcall(HostOp.GetHeaderMapPairs, type);
  return statusOf(result) === Status.Ok ? fromFlat(result as string[]) : [];
}

/** proxy_on_http_call_response. */
export function onHttpCallResponse(token: number, headerCount: number, bodySize: number): void {
  const call = take(token);
  if (!call) return;
  if (headerCount === 0) {
    call.reject(new CalloutError("reset", "HTTP callout failed: the connection was reset"));
    return;
  }
  const headers = readMap(MapType.HttpCallResponseHeaders);
  const body = bodySize > 0 ? readBuffer(BufferType.HttpCallResponseBody, 0, bodySize) : new Uint8Array(0);
  const status = Number(headers.find(([name]) => name === ":status")?.[1] ?? 0);
  if (isRouterTimeoutReply(status, headers, body)) {
    call.reject(new CalloutError("timeout", "HTTP callout timed out"));
    return;
  }
  const trailers = readMap(MapType.HttpCallResponseTrailers);
  call.resolve(
    new CalloutResponse(status, new ResponseHeaders(headers), body, new ResponseHeaders(trailers)) as never,
  );
}

/** proxy_on_grpc_receive: a unary call's answer. */
export function onGrpcReceive(token: number, size: number): void {
  const call = take(token);
  call?.resolve(readBuffer(BufferType.GrpcCallMessage, 0, size) as never);
}

/** proxy_on_grpc_close: a call that ends without a message fails with its status. */
export function onGrpcClose(token: number, code: number): void {
  const call = take(token);
  if (!call) return;
  const result = hostcall(HostOp.GetStatus);
  const details = statusOf(result) === Status.Ok ? (result as string) : "";
  if (code === 0) call.resolve(new Uint8Array(0) as never);
  // A timeout is the router's 504 local reply, which gRPC reads as UNAVAILABLE (grpc/common.cc
  // httpToGrpcStatus); a deadline the server enforced is DEADLINE_EXCEEDED.
  else if ((code === 14 && details === "upstream request timeout") || code === 4) {
    call.reject(new CalloutError("timeout", `gRPC call timed out (status ${code})`));
  } else call.reject(new GrpcError(code, details));
}
