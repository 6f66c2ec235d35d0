// The public context classes: subclass them and override the callbacks you need.

import {
  proxy_close_stream,
  proxy_done,
  proxy_continue_stream,
  proxy_grpc_call,
  proxy_grpc_cancel,
  proxy_grpc_close,
  proxy_grpc_send,
  proxy_grpc_stream,
  proxy_http_call,
  proxy_send_local_response,
} from "./abi/imports";
import { Action, NO_GRPC_STATUS, PeerType, Status, StreamType } from "./abi/types";
import { toBytes } from "./bytes";
import { Callout, HttpCallResponse } from "./callout";
import { HeaderList } from "./headers";
import { RETURN_SIZE, setLastStatus } from "./memory";
import { PendingCallout, ensureEffectiveContext, recordCallout } from "./registry";


@lazy const EMPTY = new ArrayBuffer(0);

function ptrOf(bytes: ArrayBuffer | null): usize {
  return bytes === null ? 0 : changetype<usize>(bytes);
}
function sizeOf(bytes: ArrayBuffer | null): usize {
  return bytes === null ? 0 : <usize>bytes.byteLength;
}

/**
 * What every context can do: make HTTP and gRPC callouts and receive their responses. A response
 * is delivered to the context that made the call, with the call's token.
 */
export class BaseContext {
  /** This context's callouts still waiting for an answer. @internal */
  pendingCallouts: PendingCallout | null = null;

  constructor(readonly id: u32) {}

  private track(s: Status, token: u32): Callout {
    if (s == Status.Ok) recordCallout(token, this);
    return new Callout(s, token);
  }

  /**
   * Sends an HTTP request to the Envoy cluster `upstream`. `headers` must hold `:method`, `:path`
   * and `:authority` (Envoy answers BadArgument otherwise). The response arrives in
   * `onHttpCallResponse(token, response)` of this context; a timeout arrives as `response.failed`.
   */
  httpCall(
    upstream: string,
    headers: HeaderList,
    body: ArrayBuffer | null = null,
    trailers: HeaderList | null = null,
    timeoutMs: u32 = 5000,
  ): Callout {
    const name = toBytes(upstream);
    const headerBytes = headers.serialize();
    const trailerBytes: ArrayBuffer | null = trailers === null ? null : trailers.serialize();
    ensureEffectiveContext(this.id);
    store<u32>(RETURN_SIZE, 0);
    const s = setLastStatus(
      proxy_http_call(
        changetype<usize>(name),
        name.byteLength,
        changetype<usize>(headerBytes),
        headerBytes.byteLength,
        ptrOf(body),
        sizeOf(body),
        ptrOf(trailerBytes),
        sizeOf(trailerBytes),
        timeoutMs,
        RETURN_SIZE,
      ),
    );
    return this.track(s, load<u32>(RETURN_SIZE));
  }

  /**
   * Makes a unary gRPC call. The reply arrives in `onGrpcReceive(token, message)`, then
   * `onGrpcClose(token, status, message)` (also on errors and timeouts).
   */
  grpcCall(
    upstream: string,
    service: string,
    method: string,
    message: ArrayBuffer,
    initialMetadata: HeaderList | null = null,
    timeoutMs: u32 = 5000,
  ): Callout {
    const name = toBytes(upstream);
    const serviceBytes = toBytes(service);
    const methodBytes = toBytes(method);
    const metadata: ArrayBuffer | null = initialMetadata === null ? null : initialMetadata.serialize();
    ensureEffectiveContext(this.id);
    store<u32>(RETURN_SIZE, 0);
    const s = setLastStatus(
      proxy_grpc_call(
        changetype<usize>(name),
        name.byteLength,
        changetype<usize>(serviceBytes),
        serviceBytes.byteLength,
        changetype<usize>(methodBytes),
        methodBytes.byteLength,
        ptrOf(metadata),
        sizeOf(metadata),
        changetype<usize>(message),
        message.byteLength,
        timeoutMs,
        RETURN_SIZE,
      ),
    );
    return this.track(s, load<u32>(RETURN_SIZE));
  }

  /**
   * Opens a gRPC stream. Send with `grpcSend(token, ...)`; messages arrive in `onGrpcReceive`, the
   * end in `onGrpcClose`.
   */
  grpcStream(
    upstream: string,
    service: string,
    method: string,
    initialMetadata: HeaderList | null = null,
  ): Callout {
    const name = toBytes(upstream);
    const serviceBytes = toBytes(service);
    const methodBytes = toBytes(method);
    const metadata: ArrayBuffer | null = initialMetadata === null ? null : initialMetadata.serialize();
    ensureEffectiveContext(this.id);
    store<u32>(RETURN_SIZE, 0);
    const s = setLastStatus(
      proxy_grpc_stream(
        changetype<usize>(name),
        name.byteLength,
        changetype<usize>(serviceBytes),
        serviceBytes.byteLength,
        changetype<usize>(methodBytes),
        methodBytes.byteLength,
        ptrOf(metadata),
        sizeOf(metadata),
        RETURN_SIZE,
      ),
    );
    return this.track(s, load<u32>(RETURN_SIZE));
  }

  /** Sends a message on gRPC stream `token`; `endStream` half-closes it. */
  grpcSend(token: u32, message: ArrayBuffer, endStream: bool = false): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_grpc_send(token, changetype<usize>(message), message.byteLength, endStream ? 1 : 0));
  }

  /** Cancels gRPC call or stream `token` (no further callbacks for it). */
  grpcCancel(token: u32): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_grpc_cancel(token));
  }

  /** Closes gRPC call or stream `token` gracefully. */
  grpcClose(token: u32): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_grpc_close(token));
  }

  /** The response to `httpCall` with this token. */
  onHttpCallResponse(token: u32, response: HttpCallResponse): void {}
  /** Initial metadata of gRPC call/stream `token` (read it from `grpcInitialMetadata`). */
  onGrpcReceiveInitialMetadata(token: u32, count: u32): void {}
  /** One message of gRPC call/stream `token`. */
  onGrpcReceive(token: u32, message: ArrayBuffer): void {}
  /** Trailing metadata of gRPC call/stream `token` (read it from `grpcTrailingMetadata`). */
  onGrpcReceiveTrailingMetadata(token: u32, count: u32): void {}
  /** End of gRPC call/stream `token` with its gRPC status (0 = OK); `grpcStatusMessage()` has the text. */
  onGrpcClose(token: u32, statusCode: u32): void {}

  /** Finishes this context after `onDone` returned false (`proxy_done`). */
  done(): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_done());
  }

  /** The host is done with this context. Return false to finish later with `done()`. */
  onDone(): bool {
    return true;
  }
  /** Access-log time: every attribute of the finished stream is available. */
  onLog(): void {}
  /** The context is deleted; no more callbacks. */
  onDelete(): void {}
}

/**
 * The plugin context (one per plugin configuration): configuration, timers, queues, foreign
 * functions, and the factory for per-request and per-connection contexts.
 */
export class RootContext extends BaseContext {
  /** VM start with the VM configuration bytes. Return false to fail the start. */
  onVmStart(configuration: ArrayBuffer): bool {
    return true;
  }
  /** Plugin configuration bytes (Envoy passes a Struct as JSON). Return false to reject it. */
  onConfigure(configuration: ArrayBuffer): bool {
    return true;
  }
  /** Called every tick period set with `setTickPeriod`. */
  onTick(): void {}
  /** Shared queue `queueId` has items to dequeue. */
  onQueueReady(queueId: u32): void {}
  /** A foreign function registered by the host called back into the plugin. */
  onForeignFunction(functionId: u32, args: ArrayBuffer): void {}
  /** A new HTTP stream: return its context, or null when this plugin is not an HTTP filter. */
  createHttpContext(contextId: u32): HttpContext | null {
    return null;
  }
  /** A new TCP connection: return its context, or null when this plugin is not a network filter. */
  createStreamContext(contextId: u32): StreamContext | null {
    return null;
  }
}

/** Per-request context of an HTTP filter: six phases, then log and done. */
export class HttpContext extends BaseContext {
  constructor(
    id: u32,
    readonly root: RootContext,
  ) {
    super(id);
  }

  /** Request headers arrived (`requestHeaders` is readable and writable). */
  onRequestHeaders(headerCount: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  /** A request body chunk arrived (`requestBody`). Return Pause to buffer until `endOfStream`. */
  onRequestBody(bodySize: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  /** Request trailers arrived (`requestTrailers`). */
  onRequestTrailers(trailerCount: u32): Action {
    return Action.Continue;
  }
  /** Response headers arrived (`responseHeaders`). */
  onResponseHeaders(headerCount: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  /** A response body chunk arrived (`responseBody`). Return Pause to buffer until `endOfStream`. */
  onResponseBody(bodySize: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  /** Response trailers arrived (`responseTrailers`). */
  onResponseTrailers(trailerCount: u32): Action {
    return Action.Continue;
  }

  /** Resumes a request paused with `Action.Pause` (e.g. after a callout answered). */
  resumeRequest(): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_continue_stream(StreamType.HttpRequest));
  }
  /** Resumes a paused response. */
  resumeResponse(): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_continue_stream(StreamType.HttpResponse));
  }
  /** Resets the stream. */
  closeRequest(): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_close_stream(StreamType.HttpRequest));
  }

  /**
   * Answers the request from the plugin instead of the upstream. Return `Action.Pause` from the
   * callback that calls this. `grpcStatus` -1 means none; `details` shows in `%RESPONSE_CODE_DETAILS%`.
   */
  sendLocalResponse(
    statusCode: u32,
    body: ArrayBuffer | null = null,
    headers: HeaderList | null = null,
    grpcStatus: i32 = NO_GRPC_STATUS,
    details: string = "",
  ): Status {
    const headerBytes = headers === null ? EMPTY : headers.serialize();
    const detailBytes = toBytes(details);
    ensureEffectiveContext(this.id);
    return setLastStatus(
      proxy_send_local_response(
        statusCode,
        changetype<usize>(detailBytes),
        detailBytes.byteLength,
        ptrOf(body),
        sizeOf(body),
        changetype<usize>(headerBytes),
        headerBytes.byteLength,
        grpcStatus,
      ),
    );
  }

  /** `sendLocalResponse` with a UTF-8 text body. */
  sendLocalResponseText(statusCode: u32, body: string, headers: HeaderList | null = null): Status {
    return this.sendLocalResponse(statusCode, toBytes(body), headers);
  }
}

/** Per-connection context of a network (TCP) filter. */
export class StreamContext extends BaseContext {
  constructor(
    id: u32,
    readonly root: RootContext,
  ) {
    super(id);
  }

  /** A downstream connection was accepted. */
  onNewConnection(): Action {
    return Action.Continue;
  }
  /** Data from downstream (`downstreamData`). */
  onDownstreamData(dataSize: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  /** Data from upstream (`upstreamData`). */
  onUpstreamData(dataSize: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  /** The downstream connection closed. */
  onDownstreamConnectionClose(peer: PeerType): void {}
  /** The upstream connection closed. */
  onUpstreamConnectionClose(peer: PeerType): void {}

  /** Resumes downstream data paused with `Action.Pause`. */
  resumeDownstream(): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_continue_stream(StreamType.Downstream));
  }
  /**
   * Asks to resume upstream data paused with `Action.Pause`. Envoy answers `Status.Unimplemented`
   * (a network filter cannot resume held upstream writes) and so does the local host: upstream
   * data stays buffered, and the next upstream chunk shows the plugin all of it again; return
   * `Action.Continue` from `onUpstreamData` to let it through.
   */
  resumeUpstream(): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_continue_stream(StreamType.Upstream));
  }
  /** Closes the downstream connection. */
  closeDownstream(): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_close_stream(StreamType.Downstream));
  }
  /** Closes the upstream connection. */
  closeUpstream(): Status {
    ensureEffectiveContext(this.id);
    return setLastStatus(proxy_close_stream(StreamType.Upstream));
  }
}
