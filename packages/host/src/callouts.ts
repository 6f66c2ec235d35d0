/**
 * HTTP and gRPC callouts a plugin made. The host hands these objects to the embedder's `Upstream`; the
 * embedder (or a test) answers them later, asynchronously, with their methods. Each answer runs the
 * plugin's callback on the root context that made the call, as Envoy does.
 */
import { ByteBuffer } from "./byte-buffer.ts";
import { EMPTY_BYTES, encodeString, toBytes, utf8String } from "./bytes.ts";
import { HeaderMap } from "./header-map.ts";
import { parsePairs } from "./pairs.ts";
import type { RootContext } from "./root-context.ts";
import type { TimerHandle } from "./services.ts";
import { type BytesInput, type HeaderInput, type HeaderPair, MapType, Status } from "./types.ts";

/** Envoy's router local reply on a timeout, in its header order. */
const TIMEOUT_BODY = "upstream request timeout";
const TIMEOUT_HEADERS: HeaderInput = [
  [":status", "504"],
  ["content-length", String(TIMEOUT_BODY.length)],
  ["content-type", "text/plain"],
];

/** An HTTP response to a callout. */
export interface HttpCalloutResponse {
  headers: HeaderInput;
  body?: BytesInput;
  trailers?: HeaderInput;
}

// The last response body given as text and its UTF-8 bytes: a test or a bench answers callout after
// callout with the same text, which then is encoded once. Sharing the bytes is safe: the plugin reads a
// callout's response body through a read-only buffer, and nothing else writes to it.
let lastBodyText = "";
let lastBodyBytes: Uint8Array = EMPTY_BYTES;

function responseBodyBytes(body: BytesInput | undefined): Uint8Array {
  if (body === undefined) return EMPTY_BYTES;
  if (typeof body !== "string") return body;
  if (body !== lastBodyText) {
    lastBodyBytes = encodeString(body);
    lastBodyText = body;
  }
  return lastBodyBytes;
}

abstract class Callout {
  /** The token the plugin got back (`return_call_id`). */
  readonly id: number;
  readonly cluster: string;
  readonly timeoutMs: number;
  /** True once answered, failed, timed out or cancelled: later answers are ignored. */
  finished = false;
  /** True once cancelled, by the plugin or by the end of its root context or VM: no callback follows. */
  cancelled = false;
  /** Embedder hook: told when the call is cancelled (stop the request upstream). */
  onCancel: (() => void) | undefined;
  timer: TimerHandle | undefined;
  protected readonly root: RootContext;

  constructor(root: RootContext, id: number, cluster: string, timeoutMs: number) {
    this.root = root;
    this.id = id;
    this.cluster = cluster;
    this.timeoutMs = timeoutMs;
  }

  /** The root context id the answer is delivered to. */
  get contextId(): number {
    return this.root.id;
  }

  /**
   * Cancels the call: no callback follows, and the embedder's `onCancel` hears of it. Returns false if the
   * call had already finished.
   */
  cancel(): boolean {
    if (!this.finish()) return false;
    this.cancelled = true;
    this.onCancel?.();
    return true;
  }

  protected finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    if (this.timer !== undefined) this.root.host.timers.clearTimer(this.timer);
    return true;
  }
}

/** A `proxy_http_call` in flight. */
export class HttpCallout extends Callout {
  readonly body: Uint8Array;
  readonly trailers: HeaderPair[];
  /** The request headers as given: pairs, or their spec serialization (parsed on first read). */
  private headerSource: HeaderPair[] | Uint8Array;

  /**
   * `headers` may be the spec serialization (`pairs.ts`) the plugin passed, already checked with
   * `countPairs`; the callout then owns it, and `headers` parses it when first read.
   */
  constructor(
    root: RootContext,
    id: number,
    cluster: string,
    headers: HeaderPair[] | Uint8Array,
    body: Uint8Array,
    trailers: HeaderPair[],
    timeoutMs: number,
  ) {
    super(root, id, cluster, timeoutMs);
    this.headerSource = headers;
    this.body = body;
    this.trailers = trailers;
  }

  /** The request headers the plugin sent, in order. */
  get headers(): HeaderPair[] {
    const source = this.headerSource;
    if (!(source instanceof Uint8Array)) return source;
    const pairs = parsePairs(source);
    if (pairs === null) throw new Error("HttpCallout: the serialized request headers are malformed");
    this.headerSource = pairs;
    return pairs;
  }

  /** First request header value named `name` (as UTF-8), or undefined. */
  header(name: string): string | undefined {
    const key = name.toLowerCase();
    const hit = this.headers.find(([n]) => utf8String(n).toLowerCase() === key);
    return hit ? utf8String(hit[1]) : undefined;
  }

  /**
   * Delivers the response: runs `proxy_on_http_call_response`. Returns false if already finished. A body
   * given as bytes is kept as it is (not copied): do not change it afterwards.
   */
  respond(response: HttpCalloutResponse): boolean {
    if (!this.finish()) return false;
    const headers = HeaderMap.from(response.headers);
    const trailers = HeaderMap.from(response.trailers);
    const body = responseBodyBytes(response.body);
    this.root.deliverHttpCallResponse(this, headers, body, trailers, Status.Ok, "");
    return true;
  }

  /** Why the call failed (`fail(reason)`), for the embedder; the plugin always reads "reset". */
  failureReason: string | undefined;

  /**
   * Fails the call (a reset after the response started): the plugin sees zero headers, and
   * `proxy_get_status` gives BROKEN_CONNECTION with the message "reset" whatever `reason` says, as Envoy's
   * Context::onHttpCallFailure sets them. (Envoy answers a call that fails before any response, such as no
   * healthy upstream or a connect failure, with its router's local reply instead: a 503 through `respond`.)
   */
  fail(reason = "reset"): boolean {
    if (!this.finish()) return false;
    this.failureReason = reason;
    this.root.deliverHttpCallResponse(
      this,
      new HeaderMap(),
      EMPTY_BYTES,
      new HeaderMap(),
      Status.BrokenConnection,
      "reset",
    );
    return true;
  }

  /**
   * Called by the host when the callout's timeout elapses: the answer is the router's local reply, 504
   * "upstream request timeout" (router.cc onResponseTimeout; the async client's AsyncStreamImpl::
   * sendLocalReply turns it into a response, delivered as a success).
   */
  timeout(): boolean {
    return this.respond({ headers: TIMEOUT_HEADERS, body: TIMEOUT_BODY });
  }
}

/** gRPC status codes used by the host. */
export const GrpcStatus = {
  Ok: 0,
  Cancelled: 1,
  DeadlineExceeded: 4,
  Internal: 13,
  Unavailable: 14,
} as const;

/** A `proxy_grpc_call` (unary) or `proxy_grpc_stream` in flight. */
export class GrpcCallout extends Callout {
  readonly service: string;
  readonly method: string;
  readonly initialMetadata: HeaderPair[];
  /** True for `proxy_grpc_stream`, false for a unary `proxy_grpc_call`. */
  readonly streaming: boolean;
  /** Messages the plugin sent: the request for a unary call, each `proxy_grpc_send` for a stream. */
  readonly sent: Uint8Array[] = [];
  /** True once the plugin half-closed the stream (`end_stream` or `proxy_grpc_close`). */
  localClosed = false;
  /**
   * Embedder hook: told about each message the plugin sends on a stream; `proxy_grpc_close` ends it with an
   * empty message and `endOfStream`.
   */
  onSend: ((message: Uint8Array, endOfStream: boolean) => void) | undefined;
  /** A unary call's response message, kept until the call closes (see `close`). */
  private response: Uint8Array | null = null;

  constructor(
    root: RootContext,
    id: number,
    cluster: string,
    service: string,
    method: string,
    initialMetadata: HeaderPair[],
    streaming: boolean,
    timeoutMs: number,
  ) {
    super(root, id, cluster, timeoutMs);
    this.service = service;
    this.method = method;
    this.initialMetadata = initialMetadata;
    this.streaming = streaming;
  }

  /**
   * Delivers response initial metadata (`proxy_on_grpc_receive_initial_metadata`). On a unary call the
   * plugin never sees it: Envoy's AsyncRequestImpl::onReceiveInitialMetadata (source/common/grpc/
   * async_client_impl.cc) drops it, and context.h's GrpcCallClientHandler has no metadata callbacks.
   */
  receiveInitialMetadata(metadata: HeaderInput): boolean {
    if (this.finished) return false;
    if (this.streaming)
      this.root.deliverGrpcMetadata(this, MapType.GrpcCallInitialMetadata, HeaderMap.from(metadata));
    return true;
  }

  /**
   * Delivers one response message (`proxy_on_grpc_receive`). A unary call keeps it until `close`: Envoy's
   * AsyncRequestImpl::onReceiveMessageRaw stores the response and hands it over only on an OK close.
   */
  receive(message: BytesInput): boolean {
    if (this.finished) return false;
    if (this.streaming) this.root.deliverGrpcMessage(this, new ByteBuffer(toBytes(message), false));
    else this.response = toBytes(message).slice();
    return true;
  }

  /** Delivers trailing metadata (`proxy_on_grpc_receive_trailing_metadata`); dropped on a unary call. */
  receiveTrailingMetadata(metadata: HeaderInput): boolean {
    if (this.finished) return false;
    if (this.streaming)
      this.root.deliverGrpcMetadata(this, MapType.GrpcCallTrailingMetadata, HeaderMap.from(metadata));
    return true;
  }

  /**
   * Ends the call with a gRPC status. A stream gets `proxy_on_grpc_close` (message via `proxy_get_status`).
   * A unary call gets one callback, as Envoy's AsyncRequestImpl::onRemoteClose decides: OK with a response
   * is `proxy_on_grpc_receive` only (onSuccessRaw -> Context::onGrpcReceiveWrapper); any other status is
   * `proxy_on_grpc_close` only (onFailure -> Context::onGrpcCloseWrapper), and OK without a response is
   * INTERNAL with an empty message.
   */
  close(status: number, message = ""): boolean {
    if (!this.finish()) return false;
    if (this.streaming) {
      this.root.deliverGrpcClose(this, status, message);
      return true;
    }
    const response = this.response;
    this.response = null;
    if (status === GrpcStatus.Ok && response !== null) {
      this.root.deliverGrpcSuccess(this, new ByteBuffer(response, false));
    } else if (status === GrpcStatus.Ok) {
      this.root.deliverGrpcClose(this, GrpcStatus.Internal, "");
    } else {
      this.root.deliverGrpcClose(this, status, message);
    }
    return true;
  }

  /** Convenience: initial metadata, the response message, then close with OK. */
  respond(message: BytesInput, metadata: HeaderInput = []): boolean {
    if (this.finished) return false;
    if (metadata.length > 0) this.receiveInitialMetadata(metadata);
    this.receive(message);
    return this.close(GrpcStatus.Ok);
  }

  /**
   * Called by the host when the timeout elapses. Envoy's gRPC client runs over its HTTP async client, whose
   * router answers a timeout with a 504 local reply; gRPC maps 504 to UNAVAILABLE (grpc/common.cc
   * Utility::httpToGrpcStatus), so the call closes with UNAVAILABLE and the reply's text.
   */
  timeout(): boolean {
    return this.close(GrpcStatus.Unavailable, TIMEOUT_BODY);
  }

  /** The plugin cancelled (or closed a unary call): no further callbacks. */
  cancelByPlugin(): void {
    this.cancel();
  }
}
