/** Test-friendly wrappers of HttpStream and TcpStream that record what the plugin did. */
import { CallbackTimeoutError } from "../callback-guard.ts";
import { HeaderMap } from "../header-map.ts";
import type { HttpAccessLogHeaders, HttpStream, HttpStreamEvents } from "../http-stream.ts";
import type { TcpStream, TcpStreamEvents } from "../tcp-stream.ts";
import type { Action, BytesInput, HeaderInput, LocalReply, PeerType } from "../types.ts";
import type { VmFailure } from "../vm.ts";

const decoder = new TextDecoder();
/** What a stream has forwarded before it forwards anything; shared, as `concat` never writes to it. */
const NOTHING = new Uint8Array(0);

/** `a` followed by `b`, which the caller owns: kept as it is when `a` is empty. */
function concatOwned(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a; // the common case (nothing drained): no allocation
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** `a` followed by `b`, which the caller does not own (it is copied when returned alone). */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  return concatOwned(a, a.length === 0 && b.length > 0 ? b.slice() : b);
}

const reportedTimeouts = new WeakSet<VmFailure>();

/**
 * A test must not read a timed-out callback as an ordinary 503: the first stream call that sees the VM
 * failed by the callback time limit throws the CallbackTimeoutError (once per VM failure).
 */
function throwNewTimeout(failure: VmFailure | null): void {
  if (failure === null || !(failure.error instanceof CallbackTimeoutError) || reportedTimeouts.has(failure))
    return;
  reportedTimeouts.add(failure);
  throw failure.error;
}

/** What an HTTP stream told its embedder. */
export interface RecordedHttpEvents {
  requestResumed: number;
  responseResumed: number;
  localReplies: LocalReply[];
  resets: Array<"request" | "response">;
  routeCacheClears: number;
}

// The recorders are classes, not object literals of arrow functions: a stream is opened per test request
// (and per benchmark iteration), and methods on a prototype cost nothing to create.
class HttpEventRecorder implements HttpStreamEvents {
  constructor(private readonly events: RecordedHttpEvents) {}
  onResumeRequest(): void {
    this.events.requestResumed++;
  }
  onResumeResponse(): void {
    this.events.responseResumed++;
  }
  onLocalReply(reply: LocalReply): void {
    this.events.localReplies.push(reply);
  }
  onReset(direction: "request" | "response"): void {
    this.events.resets.push(direction);
  }
  onClearRouteCache(): void {
    this.events.routeCacheClears++;
  }
}

/** An HTTP stream in a test: feed phases, then read headers, bodies, local reply and events. */
export class TestHttpStream {
  readonly events: RecordedHttpEvents = {
    requestResumed: 0,
    responseResumed: 0,
    localReplies: [],
    resets: [],
    routeCacheClears: 0,
  };
  private forwardedRequest: Uint8Array = NOTHING;
  private forwardedResponse: Uint8Array = NOTHING;
  /** The underlying stream (for anything the wrapper does not cover). */
  stream!: HttpStream;

  /** Binds the stream (the harness creates it with this wrapper's event handlers). */
  bind(stream: HttpStream): this {
    this.stream = stream;
    return this;
  }

  /** Event handlers to pass when opening the stream. */
  handlers(): HttpStreamEvents {
    return new HttpEventRecorder(this.events);
  }

  private collect<T>(result: T): T {
    throwNewTimeout(this.stream.vm.failure);
    // Drained bytes are handed over by the stream (it keeps no reference): recorded without a copy.
    this.forwardedRequest = concatOwned(this.forwardedRequest, this.stream.drainRequestBody());
    this.forwardedResponse = concatOwned(this.forwardedResponse, this.stream.drainResponseBody());
    return result;
  }

  /** The stream context id. */
  get id(): number {
    return this.stream.id;
  }

  requestHeaders(headers: HeaderInput, endOfStream = false): Action {
    return this.collect(this.stream.requestHeaders(headers, endOfStream));
  }
  requestBody(chunk: BytesInput, endOfStream = false): Action {
    return this.collect(this.stream.requestBody(chunk, endOfStream));
  }
  requestTrailers(trailers: HeaderInput): Action {
    return this.collect(this.stream.requestTrailers(trailers));
  }
  responseHeaders(headers: HeaderInput, endOfStream = false): Action {
    return this.collect(this.stream.responseHeaders(headers, endOfStream));
  }
  responseBody(chunk: BytesInput, endOfStream = false): Action {
    return this.collect(this.stream.responseBody(chunk, endOfStream));
  }
  responseTrailers(trailers: HeaderInput): Action {
    return this.collect(this.stream.responseTrailers(trailers));
  }
  /**
   * Ends the stream: `proxy_on_log`, `proxy_on_done`, `proxy_on_delete`. `accessLog` gives the maps
   * `proxy_on_log` shows, e.g. the request headers of a stream an earlier filter answered (whose request
   * never reached this plugin).
   */
  complete(accessLog?: HttpAccessLogHeaders): void {
    this.collect(this.stream.complete(accessLog));
  }
  /** Ends the stream incomplete, as a reset (downstream or upstream) does: no later phase, then as `complete`. */
  reset(accessLog?: HttpAccessLogHeaders): void {
    this.collect(this.stream.reset(accessLog));
  }

  /** Request headers after mutation, as UTF-8 pairs. */
  get requestHeadersList(): Array<[string, string]> {
    return this.stream.request.headers?.toStrings() ?? [];
  }
  get responseHeadersList(): Array<[string, string]> {
    return this.stream.response.headers?.toStrings() ?? [];
  }
  get requestTrailersList(): Array<[string, string]> {
    return this.stream.request.trailers?.toStrings() ?? [];
  }
  get responseTrailersList(): Array<[string, string]> {
    return this.stream.response.trailers?.toStrings() ?? [];
  }
  /** First request header value (UTF-8) after mutation. */
  requestHeader(name: string): string | undefined {
    return (this.stream.request.headers ?? new HeaderMap()).getString(name);
  }
  responseHeader(name: string): string | undefined {
    return (this.stream.response.headers ?? new HeaderMap()).getString(name);
  }
  /** Request body as forwarded so far plus what the plugin still holds. */
  get requestBodyBytes(): Uint8Array {
    this.collect(undefined);
    return concat(this.forwardedRequest, this.stream.request.body.bytes);
  }
  get responseBodyBytes(): Uint8Array {
    this.collect(undefined);
    return concat(this.forwardedResponse, this.stream.response.body.bytes);
  }
  get requestBodyText(): string {
    return decoder.decode(this.requestBodyBytes);
  }
  get responseBodyText(): string {
    return decoder.decode(this.responseBodyBytes);
  }
  /** The local reply the plugin sent (or FAIL_CLOSED's 503), if any. */
  get localReply(): LocalReply | null {
    return this.stream.localReply;
  }
  get localReplyBodyText(): string | undefined {
    const reply = this.stream.localReply;
    return reply ? decoder.decode(reply.body) : undefined;
  }
  /** A value the plugin stored with `set_property` (`wasm.` + name) or `set_envoy_filter_state`, as UTF-8. */
  filterState(key: string): string | undefined {
    const entry = this.stream.filterState.get(key) ?? this.stream.filterState.get(`wasm.${key}`);
    return entry ? decoder.decode(entry.value) : undefined;
  }
}

/** What a TCP stream told its embedder. */
export interface RecordedTcpEvents {
  downstreamResumed: number;
  closes: Array<"downstream" | "upstream">;
}

class TcpEventRecorder implements TcpStreamEvents {
  constructor(private readonly events: RecordedTcpEvents) {}
  onResumeDownstream(): void {
    this.events.downstreamResumed++;
  }
  onClose(side: "downstream" | "upstream"): void {
    this.events.closes.push(side);
  }
}

/** A TCP connection in a test. */
export class TestTcpStream {
  readonly events: RecordedTcpEvents = { downstreamResumed: 0, closes: [] };
  private toUpstream: Uint8Array = NOTHING;
  private toDownstream: Uint8Array = NOTHING;
  stream!: TcpStream;

  bind(stream: TcpStream): this {
    this.stream = stream;
    return this;
  }

  handlers(): TcpStreamEvents {
    return new TcpEventRecorder(this.events);
  }

  private collect<T>(result: T): T {
    throwNewTimeout(this.stream.vm.failure);
    this.toUpstream = concatOwned(this.toUpstream, this.stream.drainDownstream());
    this.toDownstream = concatOwned(this.toDownstream, this.stream.drainUpstream());
    return result;
  }

  get id(): number {
    return this.stream.id;
  }

  newConnection(): Action {
    return this.collect(this.stream.newConnection());
  }
  /** Client -> proxy bytes. */
  downstreamData(chunk: BytesInput, endOfStream = false): Action {
    return this.collect(this.stream.downstreamData(chunk, endOfStream));
  }
  /** Backend -> proxy bytes. */
  upstreamData(chunk: BytesInput, endOfStream = false): Action {
    return this.collect(this.stream.upstreamData(chunk, endOfStream));
  }
  closeDownstream(peer?: PeerType): void {
    this.collect(this.stream.downstreamClose(peer));
  }
  closeUpstream(peer?: PeerType): void {
    this.collect(this.stream.upstreamClose(peer));
  }
  complete(): void {
    this.collect(this.stream.complete());
  }
  /** Bytes forwarded to the backend so far. */
  get forwardedUpstream(): Uint8Array {
    return this.collect(this.toUpstream);
  }
  /** Bytes forwarded to the client so far. */
  get forwardedDownstream(): Uint8Array {
    return this.collect(this.toDownstream);
  }
  /** The cluster the plugin chose (`envoy.tcp_proxy.cluster` filter state). */
  get upstreamCluster(): string | undefined {
    return this.stream.upstreamCluster;
  }
  filterState(key: string): string | undefined {
    const entry = this.stream.filterState.get(key) ?? this.stream.filterState.get(`wasm.${key}`);
    return entry ? decoder.decode(entry.value) : undefined;
  }
}
