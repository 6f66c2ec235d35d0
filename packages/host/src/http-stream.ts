/**
 * One HTTP request/response through one plugin: a stream context and its state machine. The embedder feeds
 * each phase and gets Continue or Pause back, as Envoy's filter manager does with a Wasm filter:
 * - headers Pause = StopAllIteration: later body chunks and trailers are held (not shown to the plugin)
 *   until the plugin resumes with `proxy_continue_stream`, then delivered to it;
 * - body Pause = StopIterationAndBuffer: chunks accumulate and the next call shows the whole buffer;
 * - `drainRequestBody()` / `drainResponseBody()` return the bytes released for forwarding.
 * Resume, local reply, reset and route-cache clearing are reported through `HttpStreamEvents`, after the
 * plugin callback that caused them returns (cpp-host defers them the same way).
 * Maps and bodies are visible to hostcalls when Envoy has them: headers, body and trailers of a direction
 * during their callback and while the plugin holds that phase (BAD_ARGUMENT / NOT_FOUND otherwise), and in
 * `proxy_on_log` the request headers, response headers and trailers (read-only; a missing map reads as
 * NOT_FOUND there). `complete()` runs `proxy_on_log`, `proxy_on_done`, `proxy_on_delete` in Envoy's order
 * (access log, then filter destroy); the context is never called again.
 * A HeaderMap given for headers or trailers becomes the stream's map, not a copy: the plugin's edits show
 * in it (and `modified` says whether there were any). Header lists are copied.
 */
import { ByteBuffer } from "./byte-buffer.ts";
import { ownedBytes } from "./bytes.ts";
import { httpAttribute } from "./envoy/http-attributes.ts";
import type { Properties } from "./envoy/properties.ts";
import { HeaderMap } from "./header-map.ts";
import type { Plugin, PluginHealth } from "./plugin.ts";
import { StreamContext } from "./stream-context.ts";
import {
  Action,
  BufferType,
  type BytesInput,
  type HeaderInput,
  type LocalReply,
  MapType,
  Status,
  StreamType,
} from "./types.ts";
import { CALL_FAILED, type GuestExports } from "./vm.ts";

/** Notifications from an HTTP stream to its embedder. All optional. */

/** The embedder's HeaderMap as is (see above); anything else as a new map. */
function ownMap(input: HeaderInput | HeaderMap): HeaderMap {
  return input instanceof HeaderMap ? input : HeaderMap.from(input);
}

export interface HttpStreamEvents {
  /** The plugin resumed the paused request: forward the request headers (if held) and drained body. */
  onResumeRequest?(): void;
  /** The plugin resumed the paused response. */
  onResumeResponse?(): void;
  /** The plugin (or FAIL_CLOSED) sent a local reply instead of the upstream response. */
  onLocalReply?(reply: LocalReply): void;
  /** The plugin reset the stream (`proxy_close_stream`). */
  onReset?(direction: "request" | "response"): void;
  /** The plugin asked to clear the route cache (Envoy foreign function `clear_route_cache`). */
  onClearRouteCache?(): void;
}

/**
 * What the access-log phase (`proxy_on_log`) shows, when the embedder has it from elsewhere: Envoy's
 * Context::log reads the maps of the log context (the connection manager's), not the filter's, so a stream
 * whose request never reached the plugin still shows the request headers there.
 */
export interface HttpAccessLogHeaders {
  requestHeaders?: HeaderInput | HeaderMap;
  responseHeaders?: HeaderInput | HeaderMap;
  responseTrailers?: HeaderInput | HeaderMap;
}

export interface HttpStreamOptions {
  /** Stream attributes: `source.address`, `destination.address`, `request.protocol`, `connection.*`, ... */
  properties?: Properties;
  events?: HttpStreamEvents;
}

enum Stop {
  None = 0,
  Headers = 1,
  Body = 2,
  Trailers = 3,
}

/** One direction (request or response) of the stream. */
class Direction {
  headers: HeaderMap | null = null;
  trailers: HeaderMap | null = null;
  /** Body bytes not yet released: what the plugin sees as the body buffer. */
  readonly body = new ByteBuffer();
  /** Bytes released for forwarding, not yet drained by the embedder. */
  readonly released = new ByteBuffer();
  stop = Stop.None;
  /** Body and trailers that arrived while stopped at headers (not yet shown to the plugin). */
  held = new ByteBuffer();
  heldEnd = false;
  heldTrailers = false;
  endOfStream = false;
  /** Total body bytes seen (for `request.size` / `response.size`). */
  bodySize = 0;
  /** True while inside the body callback with end_of_stream set (trailers may be added then). */
  inEndingBodyCallback = false;
  // What hostcalls may see now (Envoy keeps a pointer only during the phase's callback and while held).
  headersVisible = false;
  bodyVisible = false;
  trailersVisible = false;

  /** Envoy's continueStream drops the phase pointers: the plugin no longer sees this direction's data. */
  hide(): void {
    this.headersVisible = false;
    this.bodyVisible = false;
    this.trailersVisible = false;
  }
}

export class HttpStream extends StreamContext<HttpStreamEvents> {
  readonly request = new Direction();
  readonly response = new Direction();
  /** The local reply sent, if any. */
  localReply: LocalReply | null = null;
  /**
   * Set by `proxy_send_local_response` while a callback of this stream runs: that callback's result becomes
   * Pause whatever the plugin returned. cpp-host's exports.cc send_local_response calls
   * `stopNextIteration(true)`, the stream's ContextBase::convertVmCallResultTo*Status reads it, and
   * DeferAfterCallActions clears it when that one callback returns: later callbacks (the local reply's own
   * response headers and body, which Envoy runs through the encoder filters) return what the plugin says.
   * Each callback saves and restores it around the guest call (`invokePhase`), as callbacks may nest
   * when the embedder answers a local reply synchronously.
   */
  private stopThisCall = false;
  /** Set when the plugin reset the stream. */
  resetBy: "request" | "response" | null = null;
  /** True while `proxy_on_log` runs (Envoy's access-log phase). */
  private logPhase = false;
  /** Number of route-cache clears the plugin asked for. */
  routeCacheClears = 0;
  /** Wall time the stream started (`request.time`), in nanoseconds. */
  readonly startWallNs: bigint;
  /**
   * True once the request headers reached the plugin. Envoy creates the VM context there (context.cc
   * Context::decodeHeaders -> onCreate, `in_vm_context_created_`); its decodeData/decodeTrailers and
   * encodeHeaders/encodeData/encodeTrailers return Continue without entering the VM until then, so a stream
   * an earlier filter answered passes by this plugin (only `proxy_on_log` and the end run, Context::log).
   */
  started = false;
  /** Set by `reset()`: the stream ended before it completed. */
  incomplete = false;

  constructor(plugin: Plugin, health: PluginHealth, options: HttpStreamOptions) {
    super(plugin, health, options);
    this.startWallNs = plugin.host.clock.wallNanoseconds();
    this.open();
  }

  // ---- request side ---------------------------------------------------------------------------------------

  /** Request headers arrive (`proxy_on_request_headers`). */
  requestHeaders(headers: HeaderInput | HeaderMap, endOfStream = false): Action {
    const dir = this.request;
    dir.headers = ownMap(headers);
    dir.endOfStream = endOfStream;
    if (this.completed) return Action.Continue;
    this.started = true;
    return this.runHeaders(
      dir,
      "proxy_on_request_headers",
      this.vm.exports.proxy_on_request_headers,
      endOfStream,
    );
  }

  /** A request body chunk arrives (`proxy_on_request_body`). */
  requestBody(chunk: BytesInput, endOfStream = false): Action {
    return this.feedBody(this.request, ownedBytes(chunk), endOfStream, true);
  }

  /** Request trailers arrive (`proxy_on_request_trailers`). */
  requestTrailers(trailers: HeaderInput | HeaderMap): Action {
    return this.feedTrailers(this.request, ownMap(trailers), true);
  }

  // ---- response side --------------------------------------------------------------------------------------

  /** Response headers arrive (`proxy_on_response_headers`). */
  responseHeaders(headers: HeaderInput | HeaderMap, endOfStream = false): Action {
    const dir = this.response;
    dir.headers = ownMap(headers);
    dir.endOfStream = endOfStream;
    if (!this.started || this.completed) return Action.Continue;
    return this.runHeaders(
      dir,
      "proxy_on_response_headers",
      this.vm.exports.proxy_on_response_headers,
      endOfStream,
    );
  }

  /** A response body chunk arrives (`proxy_on_response_body`). */
  responseBody(chunk: BytesInput, endOfStream = false): Action {
    return this.feedBody(this.response, ownedBytes(chunk), endOfStream, false);
  }

  /** Response trailers arrive (`proxy_on_response_trailers`). */
  responseTrailers(trailers: HeaderInput | HeaderMap): Action {
    return this.feedTrailers(this.response, ownMap(trailers), false);
  }

  /** Request body bytes released for forwarding since the last drain. */
  drainRequestBody(): Uint8Array {
    return this.request.released.take();
  }

  /** Response body bytes released for forwarding since the last drain. */
  drainResponseBody(): Uint8Array {
    return this.response.released.take();
  }

  /** True while the request is held by the plugin. */
  get requestPaused(): boolean {
    return this.request.stop !== Stop.None;
  }

  get responsePaused(): boolean {
    return this.response.stop !== Stop.None;
  }

  /**
   * The stream ended: `proxy_on_log`, `proxy_on_done`, `proxy_on_delete` (see StreamContext). `accessLog`
   * gives the maps the access-log phase shows when the embedder has them from elsewhere (a stream whose
   * request never reached the plugin); those given replace the stream's own for `proxy_on_log`.
   */
  override complete(accessLog?: HttpAccessLogHeaders): void {
    if (accessLog !== undefined && !this.completed) {
      if (accessLog.requestHeaders) this.request.headers = ownMap(accessLog.requestHeaders);
      if (accessLog.responseHeaders) this.response.headers = ownMap(accessLog.responseHeaders);
      if (accessLog.responseTrailers) this.response.trailers = ownMap(accessLog.responseTrailers);
    }
    super.complete();
  }

  /**
   * The stream was reset (downstream or upstream) before it completed: it ends now, incomplete. Phases the
   * plugin held stay unfinished and no later phase reaches it; `proxy_on_log` then shows what arrived (no
   * response headers if none came), then `proxy_on_done` and `proxy_on_delete`, as Envoy logs and destroys a
   * reset stream (conn_manager_impl.cc doDeferredStreamDestroy).
   */
  reset(accessLog?: HttpAccessLogHeaders): void {
    if (this.completed) return;
    this.incomplete = true;
    this.complete(accessLog);
  }

  /** In `proxy_on_log` the plugin sees only what Envoy's access-log phase keeps (see `getMap`). */
  protected override runLog(): void {
    this.request.hide();
    this.response.hide();
    this.logPhase = true;
    super.runLog();
    this.logPhase = false;
  }

  // ---- state machine --------------------------------------------------------------------------------------

  /** Envoy's Context::failStream: 503 with details "wasm_fail_stream" and gRPC UNAVAILABLE. */
  protected failClosed(): void {
    if (this.localReply) return;
    this.deliverLocalReply({
      statusCode: 503,
      details: "wasm_fail_stream",
      body: new Uint8Array(0),
      headers: [],
      grpcStatus: 14,
    });
  }

  /**
   * One phase callback of this stream: the plugin's result, or 1 (stop) when it returned 0 but sent a local
   * reply during the call (see `stopThisCall`), or CALL_FAILED.
   */
  private invokePhase(name: string, fn: GuestExports["proxy_on_request_headers"], a: number, b = 0): number {
    const outer = this.stopThisCall;
    this.stopThisCall = false;
    const r = this.vm.invoke(this, name, fn, this.id, a, b);
    const stopped = this.stopThisCall;
    this.stopThisCall = outer;
    return stopped && r === 0 ? 1 : r;
  }

  private bypass(dir: Direction): Action {
    if (this.mode === "fail-open") {
      dir.released.appendOwned(dir.body.take());
      return Action.Continue;
    }
    return this.onCallFailure();
  }

  private runHeaders(
    dir: Direction,
    name: string,
    fn: GuestExports["proxy_on_request_headers"],
    endOfStream: boolean,
  ): Action {
    if (!this.usable) return this.bypass(dir);
    const count = dir.headers!.size;
    dir.headersVisible = true;
    const r = this.invokePhase(name, fn, count, endOfStream ? 1 : 0);
    if (r === CALL_FAILED) return this.onCallFailure();
    // cpp-host: any non-zero header result (and a local reply sent from this callback) stops all iteration.
    if (r !== 0) {
      dir.stop = Stop.Headers;
      return Action.Pause;
    }
    dir.headersVisible = false;
    return Action.Continue;
  }

  private feedBody(dir: Direction, chunk: Uint8Array, endOfStream: boolean, isRequest: boolean): Action {
    dir.bodySize += chunk.length;
    if (endOfStream) dir.endOfStream = true;
    if (!this.started || this.completed) {
      // Not the plugin's stream (or over): the bytes pass by.
      dir.released.appendOwned(chunk);
      return Action.Continue;
    }
    if (!this.usable) {
      dir.body.appendOwned(chunk);
      return this.bypass(dir);
    }
    if (dir.stop === Stop.Headers) {
      dir.held.appendOwned(chunk);
      dir.heldEnd ||= endOfStream;
      return Action.Pause;
    }
    dir.body.appendOwned(chunk);
    return this.runBody(dir, endOfStream, isRequest);
  }

  private runBody(dir: Direction, endOfStream: boolean, isRequest: boolean): Action {
    const vm = this.vm;
    dir.inEndingBodyCallback = endOfStream;
    dir.bodyVisible = true;
    const r = isRequest
      ? this.invokePhase(
          "proxy_on_request_body",
          vm.exports.proxy_on_request_body,
          dir.body.length,
          +endOfStream,
        )
      : this.invokePhase(
          "proxy_on_response_body",
          vm.exports.proxy_on_response_body,
          dir.body.length,
          +endOfStream,
        );
    dir.inEndingBodyCallback = false;
    if (r === CALL_FAILED) return this.onCallFailure();
    if (r !== 0) {
      dir.stop = Stop.Body;
      return Action.Pause;
    }
    dir.stop = Stop.None;
    dir.bodyVisible = false;
    dir.released.appendOwned(dir.body.take());
    return Action.Continue;
  }

  private feedTrailers(dir: Direction, trailers: HeaderMap, isRequest: boolean): Action {
    dir.trailers = trailers;
    dir.endOfStream = true;
    if (!this.started || this.completed) return Action.Continue;
    if (!this.usable) return this.bypass(dir);
    if (dir.stop === Stop.Headers) {
      dir.heldTrailers = true;
      return Action.Pause;
    }
    return this.runTrailers(dir, isRequest);
  }

  private runTrailers(dir: Direction, isRequest: boolean): Action {
    const vm = this.vm;
    const n = dir.trailers!.size;
    dir.trailersVisible = true;
    const r = isRequest
      ? this.invokePhase("proxy_on_request_trailers", vm.exports.proxy_on_request_trailers, n)
      : this.invokePhase("proxy_on_response_trailers", vm.exports.proxy_on_response_trailers, n);
    if (r === CALL_FAILED) return this.onCallFailure();
    if (r !== 0) {
      dir.stop = Stop.Trailers;
      return Action.Pause;
    }
    dir.stop = Stop.None;
    dir.trailersVisible = false;
    dir.bodyVisible = false;
    dir.released.appendOwned(dir.body.take());
    return Action.Continue;
  }

  /**
   * Resumes a stopped direction (after the plugin's `proxy_continue_stream`). What was held is delivered to
   * the plugin and released first, so when the embedder hears of the resume, `drain*Body()` has the bytes.
   */
  private resume(isRequest: boolean): void {
    const dir = isRequest ? this.request : this.response;
    // After a local reply the request side is over (Envoy's filter manager aborts the decoder chain), while
    // the reply itself runs through the response callbacks and the plugin may hold and resume it.
    if (dir.stop === Stop.None || !this.usable || (isRequest && this.localReply)) return;
    const wasHeaders = dir.stop === Stop.Headers;
    dir.stop = Stop.None;
    dir.hide();
    if (!wasHeaders) {
      dir.released.appendOwned(dir.body.take());
    } else {
      this.deliverHeld(dir, isRequest);
    }
    if (isRequest) this.events.onResumeRequest?.();
    else this.events.onResumeResponse?.();
  }

  /** Shows the plugin the body and trailers held while it was stopped at headers (Envoy does on continue). */
  private deliverHeld(dir: Direction, isRequest: boolean): void {
    if (dir.held.length > 0 || dir.heldEnd) {
      const chunk = dir.held.take();
      const end = dir.heldEnd && !dir.heldTrailers;
      dir.heldEnd = false;
      dir.body.appendOwned(chunk);
      this.runBody(dir, end, isRequest);
    }
    if (dir.heldTrailers) {
      dir.heldTrailers = false;
      this.runTrailers(dir, isRequest);
    }
  }

  private deliverLocalReply(reply: LocalReply): void {
    this.localReply = reply;
    this.request.stop = Stop.None;
    this.events.onLocalReply?.(reply);
  }

  // ---- hostcall targets -------------------------------------------------------------------------------------

  override getMap(type: number): HeaderMap | null {
    const req = this.request;
    const res = this.response;
    if (this.logPhase) {
      // Envoy's access-log phase: request headers, response headers and trailers; a missing one reads as
      // an empty map (NOT_FOUND for a value), where outside it would be BAD_ARGUMENT.
      switch (type) {
        case MapType.HttpRequestHeaders:
          return req.headers ?? new HeaderMap();
        case MapType.HttpResponseHeaders:
          return res.headers ?? new HeaderMap();
        case MapType.HttpResponseTrailers:
          return res.trailers ?? new HeaderMap();
        case MapType.HttpRequestTrailers:
          return new HeaderMap();
      }
    }
    switch (type) {
      case MapType.HttpRequestHeaders:
        return req.headersVisible ? req.headers : null;
      case MapType.HttpResponseHeaders:
        return res.headersVisible ? res.headers : null;
      case MapType.HttpRequestTrailers:
        return req.trailersVisible || req.inEndingBodyCallback ? req.trailers : null;
      case MapType.HttpResponseTrailers:
        return res.trailersVisible || res.inEndingBodyCallback ? res.trailers : null;
      default:
        return super.getMap(type);
    }
  }

  override getMapForWrite(type: number): HeaderMap | null {
    if (this.logPhase) return null;
    // Trailers may be added from the last body callback when there were none (Envoy's addDecodedTrailers).
    const dir =
      type === MapType.HttpRequestTrailers
        ? this.request
        : type === MapType.HttpResponseTrailers
          ? this.response
          : null;
    if (dir && dir.trailers === null && dir.inEndingBodyCallback) dir.trailers = new HeaderMap();
    return this.getMap(type);
  }

  override getBuffer(type: number): ByteBuffer | null {
    switch (type) {
      case BufferType.HttpRequestBody:
        return this.request.bodyVisible ? this.request.body : null;
      case BufferType.HttpResponseBody:
        return this.response.bodyVisible ? this.response.body : null;
      case BufferType.DownstreamData:
      case BufferType.UpstreamData:
        return null;
      default:
        return super.getBuffer(type);
    }
  }

  override continueStream(type: number): Status {
    if (type === StreamType.HttpRequest || type === StreamType.HttpResponse) {
      const isRequest = type === StreamType.HttpRequest;
      this.vm.post(() => this.resume(isRequest));
      return Status.Ok;
    }
    return super.continueStream(type);
  }

  override closeStream(type: number): Status {
    if (type === StreamType.HttpRequest || type === StreamType.HttpResponse) {
      const direction = type === StreamType.HttpRequest ? "request" : "response";
      this.vm.post(() => {
        if (this.resetBy) return;
        this.resetBy = direction;
        this.events.onReset?.(direction);
      });
      return Status.Ok;
    }
    return Status.Unimplemented;
  }

  override sendLocalResponse(reply: LocalReply): Status {
    // Recorded now, and the running callback's result becomes Pause; the embedder hears of it afterwards.
    this.localReply = reply;
    this.stopThisCall = true;
    this.vm.post(() => this.deliverLocalReply(reply));
    return Status.Ok;
  }

  /** `clear_route_cache`: the embedder re-picks the route after the running callback. */
  override clearRouteCache(): void {
    this.routeCacheClears++;
    this.vm.post(() => this.events.onClearRouteCache?.());
  }

  /** Envoy's `request.*` / `response.*` attributes (`envoy/http-attributes.ts`). */
  protected override ownProperty(segments: readonly string[]): Uint8Array | undefined {
    const given = super.ownProperty(segments);
    if (given !== undefined) return given;
    return httpAttribute(this, segments);
  }
}
