/**
 * A root (plugin) context inside one VM: start-up (`proxy_on_context_create` with parent 0,
 * `proxy_on_vm_start`, `proxy_on_configure`, as cpp-host's `onStart`/`onConfigure` do), ticks, callouts
 * (their answers are delivered here, to the root context id, as Envoy does), queue-ready notifications and
 * foreign-function callbacks.
 */
import { ByteBuffer } from "./byte-buffer.ts";
import { toBytes } from "./bytes.ts";
import { GrpcCallout, HttpCallout } from "./callouts.ts";
import { Context, encodedLookup } from "./context.ts";
import type { HeaderMap } from "./header-map.ts";
import type { ProxyWasmHost } from "./host.ts";
import { LiveTable } from "./live-table.ts";
import { countPairs, visitPairs } from "./pairs.ts";
import type { Plugin } from "./plugin.ts";
import type { TimerHandle } from "./services.ts";
import type { QueueOwner } from "./shared-queues.ts";
import { BufferType, type HeaderPair, MapType, Status } from "./types.ts";
import { CALL_FAILED, type Vm } from "./vm.ts";

/** A property a plugin declared with Envoy's `declare_property` foreign function. */
export interface DeclaredProperty {
  name: string;
  readonly: boolean;
  type: number;
  schema: Uint8Array;
  span: number;
}

export class RootContext extends Context implements QueueOwner {
  readonly plugin: Plugin;
  readonly rootId: string;
  tickPeriodMs = 0;
  private tickTimer: TimerHandle | undefined;
  readonly httpCalls = new LiveTable<HttpCallout>();
  readonly grpcCalls = new LiveTable<GrpcCallout>();
  readonly declaredProperties = new Map<string, DeclaredProperty>();
  private nextHttpToken = 1;
  // Envoy hands out odd tokens to gRPC calls and even ones to gRPC streams.
  private nextGrpcCallToken = 1;
  private nextGrpcStreamToken = 2;

  constructor(vm: Vm, plugin: Plugin) {
    super(vm, vm.allocateContextId());
    this.plugin = plugin;
    this.rootId = plugin.config.rootId;
    vm.contexts.set(this.id, this);
    // A failed VM never runs a callback again: its callouts are cancelled as at a tear-down.
    vm.failureListeners.push(() => vm.post(() => this.cancelCallouts()));
  }

  override get host(): ProxyWasmHost {
    return this.plugin.host;
  }

  override get rootContext(): RootContext {
    return this;
  }

  /** Runs context create, vm start and configure. Returns an error message, or null on success. */
  start(): string | null {
    const vm = this.vm;
    const ex = vm.exports;
    vm.invoke(this, "proxy_on_context_create", ex.proxy_on_context_create, this.id, 0);
    if (vm.failed) return this.failureMessage("proxy_on_context_create");
    const vmConfig = new ByteBuffer(this.plugin.config.vmConfiguration, false);
    vm.callbackBuffers[BufferType.VmConfiguration] = vmConfig;
    const started = vm.invoke(this, "proxy_on_vm_start", ex.proxy_on_vm_start, this.id, vmConfig.length);
    vm.callbackBuffers[BufferType.VmConfiguration] = null;
    if (started === CALL_FAILED) return this.failureMessage("proxy_on_vm_start");
    if (ex.proxy_on_vm_start && started === 0) {
      return `plugin ${this.plugin.config.name}: proxy_on_vm_start returned false (the VM configuration was rejected)`;
    }
    return this.configure();
  }

  /** Runs `proxy_on_configure` with the plugin configuration. */
  configure(): string | null {
    const vm = this.vm;
    const config = new ByteBuffer(this.plugin.config.configuration, false);
    vm.callbackBuffers[BufferType.PluginConfiguration] = config;
    const ok = vm.invoke(this, "proxy_on_configure", vm.exports.proxy_on_configure, this.id, config.length);
    vm.callbackBuffers[BufferType.PluginConfiguration] = null;
    if (ok === CALL_FAILED) return this.failureMessage("proxy_on_configure");
    if (vm.exports.proxy_on_configure && ok === 0) {
      return `plugin ${this.plugin.config.name}: proxy_on_configure returned false (the plugin configuration was rejected)`;
    }
    return null;
  }

  private failureMessage(callback: string): string {
    const error = this.vm.failure?.error;
    return `plugin ${this.plugin.config.name}: ${callback} failed: ${error?.message ?? "unknown error"}`;
  }

  /** Plugin-scoped properties: `plugin_name`, `plugin_root_id`, `plugin_vm_id`, then the plugin's own bag. */
  pluginProperty(segments: readonly string[]): Uint8Array | undefined {
    if (segments.length === 1) {
      const config = this.plugin.config;
      switch (segments[0]) {
        case "plugin_name":
          return toBytes(config.name);
        case "plugin_root_id":
          return toBytes(config.rootId);
        case "plugin_vm_id":
          return toBytes(config.vmId);
      }
    }
    return encodedLookup(this.plugin.config.properties, segments);
  }

  // ---- ticks ------------------------------------------------------------------------------------------------

  setTickPeriod(ms: number): void {
    this.tickPeriodMs = ms;
    if (this.tickTimer !== undefined) this.host.timers.clearTimer(this.tickTimer);
    this.tickTimer = undefined;
    if (ms > 0) this.scheduleTick();
  }

  private scheduleTick(): void {
    this.tickTimer = this.host.timers.setTimer(this.tickPeriodMs, () => {
      this.tickTimer = undefined;
      if (this.deleted || this.vm.failed) return;
      this.tick();
      if (this.tickPeriodMs > 0 && this.tickTimer === undefined) this.scheduleTick();
    });
  }

  /** Runs `proxy_on_tick` now. */
  tick(): void {
    this.vm.invoke(this, "proxy_on_tick", this.vm.exports.proxy_on_tick, this.id);
  }

  // ---- callouts -----------------------------------------------------------------------------------------------

  /** Starts a callout; `headers` may be their spec serialization, already checked (see HttpCallout). */
  startHttpCall(
    cluster: string,
    headers: HeaderPair[] | Uint8Array,
    body: Uint8Array,
    trailers: HeaderPair[],
    timeoutMs: number,
  ): { status: Status; token: number } {
    const upstream = this.host.upstream;
    if (!this.clusterExists(cluster)) return { status: Status.BadArgument, token: 0 };
    if (!hasRequiredCalloutHeaders(headers)) return { status: Status.BadArgument, token: 0 };
    let token = this.nextHttpToken++ >>> 0;
    while (token === 0 || this.httpCalls.has(token)) token = this.nextHttpToken++ >>> 0;
    // Envoy takes the token before its client may refuse the call (Context::httpCall).
    if (!this.canStart(cluster, "http")) return { status: Status.InternalFailure, token: 0 };
    const callout = new HttpCallout(this, token, cluster, headers, body, trailers, timeoutMs);
    this.httpCalls.set(token, callout);
    if (timeoutMs > 0) callout.timer = this.host.timers.setTimer(timeoutMs, () => callout.timeout());
    // The embedder may answer synchronously; Envoy never calls back inside proxy_http_call, so defer it.
    this.vm.post(() => upstream.httpCall(callout));
    return { status: Status.Ok, token };
  }

  startGrpc(
    cluster: string,
    service: string,
    method: string,
    metadata: HeaderPair[],
    message: Uint8Array | null,
    timeoutMs: number,
  ): { status: Status; token: number } {
    const upstream = this.host.upstream;
    if (!this.clusterExists(cluster)) return { status: Status.ParseFailure, token: 0 };
    const streaming = message === null;
    let token: number;
    do {
      if (streaming) {
        token = this.nextGrpcStreamToken;
        this.nextGrpcStreamToken = (this.nextGrpcStreamToken + 2) >>> 0;
      } else {
        token = this.nextGrpcCallToken;
        this.nextGrpcCallToken = (this.nextGrpcCallToken + 2) >>> 0;
      }
    } while (token === 0 || this.grpcCalls.has(token));
    if (!this.canStart(cluster, "grpc")) return { status: Status.InternalFailure, token: 0 };
    const callout = new GrpcCallout(this, token, cluster, service, method, metadata, streaming, timeoutMs);
    if (message) callout.sent.push(message);
    this.grpcCalls.set(token, callout);
    if (timeoutMs > 0) callout.timer = this.host.timers.setTimer(timeoutMs, () => callout.timeout());
    this.vm.post(() => upstream.grpcCall(callout));
    return { status: Status.Ok, token };
  }

  private canStart(cluster: string, kind: "http" | "grpc"): boolean {
    const upstream = this.host.upstream;
    if (upstream.canStart === undefined) return true;
    try {
      return upstream.canStart(cluster, kind);
    } catch (err) {
      this.host.reportEmbedderError(err);
      return false;
    }
  }

  private clusterExists(cluster: string): boolean {
    try {
      return this.host.upstream.hasCluster(cluster);
    } catch (err) {
      this.host.reportEmbedderError(err);
      return false;
    }
  }

  deliverHttpCallResponse(
    callout: HttpCallout,
    headers: HeaderMap,
    body: Uint8Array,
    trailers: HeaderMap,
    status: number,
    message: string,
  ): void {
    const vm = this.vm;
    if (vm.busy) {
      // Envoy defers an answer that arrives during a guest call ("reentrant call, so defer").
      vm.post(() => this.deliverHttpCallResponse(callout, headers, body, trailers, status, message));
      return;
    }
    this.httpCalls.delete(callout.id);
    if (this.deleted) return;
    vm.callbackMaps[MapType.HttpCallResponseHeaders] = headers;
    vm.callbackMaps[MapType.HttpCallResponseTrailers] = trailers;
    vm.callbackBuffers[BufferType.HttpCallResponseBody] = new ByteBuffer(body, false);
    this.statusCode = status;
    this.statusMessage = toBytes(message);
    vm.invoke(
      this,
      "proxy_on_http_call_response",
      vm.exports.proxy_on_http_call_response,
      this.id,
      callout.id,
      headers.size,
      body.length,
      trailers.size,
    );
    vm.callbackMaps[MapType.HttpCallResponseHeaders] = null;
    vm.callbackMaps[MapType.HttpCallResponseTrailers] = null;
    vm.callbackBuffers[BufferType.HttpCallResponseBody] = null;
  }

  deliverGrpcMetadata(callout: GrpcCallout, type: number, metadata: HeaderMap): void {
    const vm = this.vm;
    if (vm.busy) {
      vm.post(() => this.deliverGrpcMetadata(callout, type, metadata));
      return;
    }
    if (this.deleted || callout.cancelled) return;
    const initial = type === MapType.GrpcCallInitialMetadata;
    vm.callbackMaps[type] = metadata;
    vm.invoke(
      this,
      initial ? "proxy_on_grpc_receive_initial_metadata" : "proxy_on_grpc_receive_trailing_metadata",
      initial
        ? vm.exports.proxy_on_grpc_receive_initial_metadata
        : vm.exports.proxy_on_grpc_receive_trailing_metadata,
      this.id,
      callout.id,
      metadata.size,
    );
    vm.callbackMaps[type] = null;
  }

  deliverGrpcMessage(callout: GrpcCallout, message: ByteBuffer): void {
    const vm = this.vm;
    if (vm.busy) {
      vm.post(() => this.deliverGrpcMessage(callout, message));
      return;
    }
    if (this.deleted || callout.cancelled) return;
    this.runGrpcReceive(callout, message);
  }

  /**
   * A unary call's OK answer: `proxy_on_grpc_receive` alone, then the call is gone (Envoy's
   * Context::onGrpcReceiveWrapper erases a call id once the callback returns).
   */
  deliverGrpcSuccess(callout: GrpcCallout, message: ByteBuffer): void {
    const vm = this.vm;
    if (vm.busy) {
      vm.post(() => this.deliverGrpcSuccess(callout, message));
      return;
    }
    if (this.deleted || callout.cancelled) return;
    this.runGrpcReceive(callout, message);
    this.grpcCalls.delete(callout.id);
  }

  private runGrpcReceive(callout: GrpcCallout, message: ByteBuffer): void {
    const vm = this.vm;
    vm.callbackBuffers[BufferType.GrpcCallMessage] = message;
    vm.invoke(
      this,
      "proxy_on_grpc_receive",
      vm.exports.proxy_on_grpc_receive,
      this.id,
      callout.id,
      message.length,
    );
    vm.callbackBuffers[BufferType.GrpcCallMessage] = null;
  }

  deliverGrpcClose(callout: GrpcCallout, status: number, message: string): void {
    if (this.vm.busy) {
      this.vm.post(() => this.deliverGrpcClose(callout, status, message));
      return;
    }
    if (this.deleted || callout.cancelled) return;
    this.statusCode = status;
    this.statusMessage = toBytes(message);
    this.vm.invoke(
      this,
      "proxy_on_grpc_close",
      this.vm.exports.proxy_on_grpc_close,
      this.id,
      callout.id,
      status,
    );
    // The token lived through the callback; then a call is gone, and so is a stream the plugin had closed
    // (Envoy's Context::onGrpcCloseWrapper cleanup). An open stream waits for proxy_grpc_close/cancel.
    if (!callout.streaming || callout.localClosed) this.grpcCalls.delete(callout.id);
  }

  // ---- queues and foreign functions ---------------------------------------------------------------------------

  notifyQueueReady(token: number): void {
    this.vm.post(() => {
      if (this.deleted) return;
      this.vm.invoke(this, "proxy_on_queue_ready", this.vm.exports.proxy_on_queue_ready, this.id, token);
    });
  }

  /** Runs `proxy_on_foreign_function` with `args` readable as FOREIGN_FUNCTION_ARGUMENTS. */
  callOnForeignFunction(functionId: number, args: Uint8Array): void {
    const vm = this.vm;
    vm.callbackBuffers[BufferType.ForeignFunctionArguments] = new ByteBuffer(args, false);
    vm.invoke(
      this,
      "proxy_on_foreign_function",
      vm.exports.proxy_on_foreign_function,
      this.id,
      functionId,
      args.length,
    );
    vm.callbackBuffers[BufferType.ForeignFunctionArguments] = null;
  }

  /** True once `proxy_on_done` returned false: the plugin finishes with `proxy_done`. */
  awaitingDone = false;

  /**
   * Stops the root context, as cpp-host does at plugin shutdown: ticks off, `proxy_on_done`; when that
   * returns false the plugin still has work and calls `proxy_done` later; then `proxy_on_delete`.
   */
  shutdown(): void {
    if (this.deleted || this.awaitingDone) return;
    this.setTickPeriod(0);
    const vm = this.vm;
    const done = vm.invoke(this, "proxy_on_done", vm.exports.proxy_on_done, this.id);
    if (vm.exports.proxy_on_done && done === 0) {
      this.awaitingDone = true;
      return;
    }
    this.delete();
  }

  /** `proxy_done` from the plugin: finishes a shutdown `proxy_on_done` deferred (NOT_FOUND if none is). */
  override done(): Status {
    if (!this.awaitingDone) return Status.NotFound;
    this.awaitingDone = false;
    this.vm.post(() => this.delete());
    return Status.Ok;
  }

  /** `done()` under its earlier name. */
  pluginDone(): Status {
    return this.done();
  }

  private delete(): void {
    const vm = this.vm;
    vm.invoke(this, "proxy_on_delete", vm.exports.proxy_on_delete, this.id);
    this.deleted = true;
    vm.contexts.delete(this.id);
    if (vm.rootContexts.get(this.rootId) === this) vm.rootContexts.delete(this.rootId);
    this.cancelCallouts();
  }

  /**
   * Cancels every pending HTTP and gRPC callout of this root context (they all belong to it: cpp-host
   * exports.cc http_call / grpc_call use `root_context()`), as Envoy's Context::~Context does when the
   * context goes (context.cc: `request_->cancel()`, gRPC `request_->cancel()`, `stream_->resetStream()`).
   * No callback follows; the embedder's `onCancel` hears of each.
   */
  cancelCallouts(): void {
    if (this.httpCalls.size > 0) {
      for (const call of this.httpCalls.values()) {
        this.httpCalls.delete(call.id);
        call.cancel();
      }
    }
    if (this.grpcCalls.size > 0) {
      for (const call of this.grpcCalls.values()) {
        this.grpcCalls.delete(call.id);
        call.cancel();
      }
    }
  }
}

const AUTHORITY = toBytes(":authority");
const METHOD = toBytes(":method");
const PATH = toBytes(":path");

/**
 * Whether a callout's headers hold `:authority`, `:method` and `:path` (names in any case), as Envoy's
 * Context::httpCall requires. Compares bytes: decoding and lower-casing every name three times was a
 * visible part of each callout.
 */
function hasRequiredCalloutHeaders(headers: readonly HeaderPair[] | Uint8Array): boolean {
  let found = 0;
  if (headers instanceof Uint8Array) {
    visitPairs(headers, countPairs(headers), (nameStart, nameLength) => {
      found |= requiredNameBit(headers, nameStart, nameLength);
    });
  } else {
    for (let i = 0; i < headers.length; i++) {
      const name = headers[i]![0];
      found |= requiredNameBit(name, 0, name.length);
    }
  }
  return found === 7;
}

/** 1, 2 or 4 when `bytes[start, start+length)` is `:authority`, `:method` or `:path` (in any case), else 0. */
function requiredNameBit(bytes: Uint8Array, start: number, length: number): number {
  if (sameAsciiName(bytes, start, length, AUTHORITY)) return 1;
  if (sameAsciiName(bytes, start, length, METHOD)) return 2;
  if (sameAsciiName(bytes, start, length, PATH)) return 4;
  return 0;
}

/** `bytes[start, start+length)` equals the lower-case `expected`, ASCII letters compared in any case. */
function sameAsciiName(bytes: Uint8Array, start: number, length: number, expected: Uint8Array): boolean {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i++) {
    const b = bytes[start + i]!;
    if ((b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== expected[i]) return false;
  }
  return true;
}
