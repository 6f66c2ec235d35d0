/** The objects handlers receive: the plugin (root context), an HTTP stream, a TCP connection. */

import { BufferType, expectOk, hostcall, MapType, StreamType } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { BodyChunk } from "./body.ts";
import {
  type CalloutRequest,
  type CalloutResponse,
  type GrpcCallRequest,
  grpcCall,
  httpCall,
} from "./callouts.ts";
import { useContext } from "./effective-context.ts";
import { clearRouteCache, LifeSpan, setEnvoyFilterState } from "./foreign.ts";
import { type GrpcStream, type GrpcStreamRequest, openGrpcStream } from "./grpc-stream.ts";
import { HeaderMap } from "./headers.ts";
import { type LocalReplyInit, respond } from "./local-reply.ts";
import { getProperty, getPropertyText, setProperty } from "./properties.ts";

/** The plugin (its root context): configuration and plugin-wide services. */
export class Plugin<Config = string> {
  /** What `configure` returned (the raw configuration text when there is no `configure`). */
  config!: Config;
  constructor(readonly id: number) {}

  /** Calls `tick` every `ms` milliseconds (0 stops it). */
  setTickPeriod(ms: number): void {
    useContext(this.id);
    expectOk("set tick period", hostcall(HostOp.SetTickPeriod, ms));
  }

  /** An HTTP callout from the plugin itself (not tied to a stream). */
  fetch(cluster: string, request: CalloutRequest = {}): Promise<CalloutResponse> {
    useContext(this.id);
    return httpCall(cluster, request);
  }

  /** A unary gRPC call from the plugin itself. */
  grpcCall(request: GrpcCallRequest): Promise<Uint8Array> {
    useContext(this.id);
    return grpcCall(request);
  }

  /** A gRPC stream from the plugin itself. */
  grpcStream(request: GrpcStreamRequest): GrpcStream {
    useContext(this.id);
    return openGrpcStream(request);
  }
}

/** Methods every stream context (HTTP stream, TCP connection) has. */
abstract class StreamContextBase<Config> {
  /** Per-stream data for the handlers' own use. */
  readonly state: Record<string, unknown> = {};
  constructor(
    readonly id: number,
    readonly plugin: Plugin<Config>,
  ) {}

  /** The plugin's configuration. */
  get config(): Config {
    return this.plugin.config;
  }

  protected enter = (): void => useContext(this.id);

  /** An HTTP callout; awaiting it pauses the stream until the answer comes. */
  fetch(cluster: string, request: CalloutRequest = {}): Promise<CalloutResponse> {
    this.enter();
    return httpCall(cluster, request);
  }

  /** A unary gRPC call; awaiting it pauses the stream until the answer comes. */
  grpcCall(request: GrpcCallRequest): Promise<Uint8Array> {
    this.enter();
    return grpcCall(request);
  }

  /** Opens a gRPC stream; its callbacks arrive on the handlers in `request`. */
  grpcStream(request: GrpcStreamRequest): GrpcStream {
    this.enter();
    return openGrpcStream(request);
  }

  /** An Envoy attribute as bytes (`"request.path"` or `["request", "path"]`), null when absent. */
  property(path: string | readonly string[]): Uint8Array | null {
    this.enter();
    return getProperty(path);
  }

  /** An Envoy attribute as text, null when absent. */
  propertyText(path: string | readonly string[]): string | null {
    this.enter();
    return getPropertyText(path);
  }

  /** Sets a property (filter state `wasm.<path>`). */
  setProperty(path: string | readonly string[], value: string | Uint8Array): void {
    this.enter();
    setProperty(path, value);
  }

  /** Sets Envoy filter state (`set_envoy_filter_state`), e.g. `envoy.tcp_proxy.cluster`. */
  setFilterState(
    path: string,
    value: string,
    span: (typeof LifeSpan)[keyof typeof LifeSpan] = LifeSpan.FilterChain,
  ): void {
    this.enter();
    setEnvoyFilterState(path, value, span);
  }
}

/** The request side of an HTTP stream: live headers and trailers. */
export class HttpRequest {
  readonly headers: HeaderMap;
  readonly trailers: HeaderMap;
  constructor(enter: () => void) {
    this.headers = new HeaderMap(MapType.HttpRequestHeaders, enter);
    this.trailers = new HeaderMap(MapType.HttpRequestTrailers, enter);
  }
  get method(): string {
    return this.headers.get(":method") ?? "";
  }
  get path(): string {
    return this.headers.get(":path") ?? "";
  }
  get authority(): string {
    return this.headers.get(":authority") ?? "";
  }
  get scheme(): string {
    return this.headers.get(":scheme") ?? "";
  }
}

/** The response side of an HTTP stream: live headers and trailers. */
export class HttpResponse {
  readonly headers: HeaderMap;
  readonly trailers: HeaderMap;
  constructor(enter: () => void) {
    this.headers = new HeaderMap(MapType.HttpResponseHeaders, enter);
    this.trailers = new HeaderMap(MapType.HttpResponseTrailers, enter);
  }
  get status(): number {
    return Number(this.headers.get(":status") ?? 0);
  }
}

/** One HTTP request/response passing through the plugin. */
export class HttpStream<Config = string> extends StreamContextBase<Config> {
  readonly request = new HttpRequest(this.enter);
  readonly response = new HttpResponse(this.enter);

  /** Answers the client now with a local reply (the request goes no further). */
  respond(status: number, body: string | Uint8Array = "", init: LocalReplyInit = {}): void {
    this.enter();
    respond(status, body, init).send();
  }

  /** Resumes the request side after a handler paused it. */
  resumeRequest(): void {
    this.enter();
    expectOk("continue request", hostcall(HostOp.ContinueStream, StreamType.HttpRequest));
  }

  /** Resumes the response side after a handler paused it. */
  resumeResponse(): void {
    this.enter();
    expectOk("continue response", hostcall(HostOp.ContinueStream, StreamType.HttpResponse));
  }

  /** Makes Envoy choose the route again (after changing headers routing reads). */
  clearRouteCache(): void {
    this.enter();
    clearRouteCache();
  }

  /** The request body chunk of the current callback. */
  requestBody(size: number, endOfStream: boolean): BodyChunk {
    return new BodyChunk(BufferType.HttpRequestBody, size, endOfStream, this.enter);
  }

  /** The response body chunk of the current callback. */
  responseBody(size: number, endOfStream: boolean): BodyChunk {
    return new BodyChunk(BufferType.HttpResponseBody, size, endOfStream, this.enter);
  }
}

/** One TCP connection passing through the plugin (a network filter). */
export class TcpConnection<Config = string> extends StreamContextBase<Config> {
  /** Resumes the downstream direction after a handler paused it. */
  resumeDownstream(): void {
    this.enter();
    expectOk("continue downstream", hostcall(HostOp.ContinueStream, StreamType.Downstream));
  }

  /** Resumes the upstream direction after a handler paused it. */
  resumeUpstream(): void {
    this.enter();
    expectOk("continue upstream", hostcall(HostOp.ContinueStream, StreamType.Upstream));
  }

  /** Closes the connection (downstream side). */
  close(): void {
    this.enter();
    expectOk("close connection", hostcall(HostOp.CloseStream, StreamType.Downstream));
  }

  downstreamData(size: number, endOfStream: boolean): BodyChunk {
    return new BodyChunk(BufferType.DownstreamData, size, endOfStream, this.enter);
  }

  upstreamData(size: number, endOfStream: boolean): BodyChunk {
    return new BodyChunk(BufferType.UpstreamData, size, endOfStream, this.enter);
  }
}
