// Maps the host's context ids to the plugin's context objects and routes every callback.

import { proxy_get_property, proxy_set_effective_context } from "./abi/imports";
import { Action, BufferType, LogLevel, PeerType, Status } from "./abi/types";
import { Buffer } from "./buffers";
import { bytesEqual, toBytes } from "./bytes";
import { HttpCallResponse } from "./callout";
import { BaseContext, HttpContext, RootContext, StreamContext } from "./context";
import { log } from "./log";
import { RETURN_DATA, RETURN_SIZE, clearReturnSlots, takeReturnedBytes } from "./memory";
import { calloutOwner, enterContext, forgetCallout, settleCallout } from "./registry";

/** Creates the root context of a plugin. A plain function: AssemblyScript has no closures. */
export type RootContextFactory = (contextId: u32) => RootContext;

/** One `registerRootContext` call; a linked list keeps growable arrays out of small modules. */
class Registration {
  constructor(
    readonly rootId: ArrayBuffer,
    readonly factory: RootContextFactory,
    readonly next: Registration | null,
  ) {}
}

let registrations: Registration | null = null;
const contexts = new Map<u32, BaseContext>();
@lazy const EMPTY = new ArrayBuffer(0);

/**
 * Registers the factory for root contexts. `rootId` must match the filter's `root_id` when a
 * module registers several; with a single registration (or rootId "") every root_id uses it.
 * Root ids are compared as bytes: no UTF-8 decoder in modules that never need one.
 */
export function registerRootContext(factory: RootContextFactory, rootId: string = ""): void {
  registrations = new Registration(toBytes(rootId), factory, registrations);
}

/** Root context that stands in when no factory matches the root_id: it rejects its configuration. */
class UnmatchedRootContext extends RootContext {
  onConfigure(configuration: ArrayBuffer): bool {
    log(LogLevel.Critical, "no root context for this root_id");
    return false;
  }
}

// "plugin_root_id" as UTF-8, in static memory.
const ROOT_ID_PATH = memory.data<u8>([112, 108, 117, 103, 105, 110, 95, 114, 111, 111, 116, 95, 105, 100]);

function pluginRootId(): ArrayBuffer {
  clearReturnSlots();
  const s = proxy_get_property(ROOT_ID_PATH, 14, RETURN_DATA, RETURN_SIZE);
  const value = takeReturnedBytes();
  return s == Status.Ok && value !== null ? value : EMPTY;
}

function createRoot(contextId: u32): RootContext {
  let entry = registrations;
  if (entry === null) return new UnmatchedRootContext(contextId);
  if (entry.next === null) return entry.factory(contextId);
  const rootId = pluginRootId();
  let fallback: Registration | null = null;
  while (entry !== null) {
    if (bytesEqual(entry.rootId, rootId)) return entry.factory(contextId);
    if (entry.rootId.byteLength == 0) fallback = entry;
    entry = entry.next;
  }
  if (fallback !== null) return fallback.factory(contextId);
  return new UnmatchedRootContext(contextId);
}

export function onContextCreate(contextId: u32, parentId: u32): void {
  enterContext(contextId);
  if (lastId == contextId) lastContext = null;
  if (parentId == 0) {
    contexts.set(contextId, createRoot(contextId));
    return;
  }
  if (!contexts.has(parentId)) {
    log(LogLevel.Error, "unknown root context");
    return;
  }
  const parent = contexts.get(parentId);
  if (!(parent instanceof RootContext)) return;
  const root = changetype<RootContext>(parent);
  const http = root.createHttpContext(contextId);
  if (http !== null) {
    contexts.set(contextId, http);
    return;
  }
  const stream = root.createStreamContext(contextId);
  if (stream !== null) contexts.set(contextId, stream);
}

// The context of the latest lookup: a stream's callbacks often come one after another (body, end of
// stream, log, done, delete), and a hit skips two hash lookups. Cleared when that context is deleted.
let lastId: u32 = 0;
let lastContext: BaseContext | null = null;

function find(contextId: u32): BaseContext | null {
  enterContext(contextId);
  if (contextId == lastId && lastContext !== null) return lastContext;
  const context = contexts.has(contextId) ? contexts.get(contextId) : null;
  lastId = contextId;
  lastContext = context;
  return context;
}

function root(contextId: u32): RootContext | null {
  const context = find(contextId);
  return context instanceof RootContext ? changetype<RootContext>(context) : null;
}

function http(contextId: u32): HttpContext | null {
  const context = find(contextId);
  return context instanceof HttpContext ? changetype<HttpContext>(context) : null;
}

function stream(contextId: u32): StreamContext | null {
  const context = find(contextId);
  return context instanceof StreamContext ? changetype<StreamContext>(context) : null;
}

function readBuffer(bufferType: BufferType, size: u32): ArrayBuffer {
  if (size == 0) return EMPTY;
  const bytes = new Buffer(bufferType).read(0, size);
  return bytes === null ? EMPTY : bytes;
}

export function onVmStart(contextId: u32, configurationSize: u32): bool {
  const context = root(contextId);
  return context === null ? true : context.onVmStart(readBuffer(BufferType.VmConfiguration, configurationSize));
}

export function onConfigure(contextId: u32, configurationSize: u32): bool {
  const context = root(contextId);
  return context === null
    ? true
    : context.onConfigure(readBuffer(BufferType.PluginConfiguration, configurationSize));
}

export function onTick(contextId: u32): void {
  const context = root(contextId);
  if (context !== null) context.onTick();
}

export function onQueueReady(contextId: u32, queueId: u32): void {
  const context = root(contextId);
  if (context !== null) context.onQueueReady(queueId);
}

export function onForeignFunction(contextId: u32, functionId: u32, argumentsSize: u32): void {
  const context = root(contextId);
  if (context !== null)
    context.onForeignFunction(functionId, readBuffer(BufferType.ForeignFunctionArguments, argumentsSize));
}

export function onRequestHeaders(contextId: u32, count: u32, endOfStream: bool): Action {
  const context = http(contextId);
  return context === null ? Action.Continue : context.onRequestHeaders(count, endOfStream);
}
export function onRequestBody(contextId: u32, size: u32, endOfStream: bool): Action {
  const context = http(contextId);
  return context === null ? Action.Continue : context.onRequestBody(size, endOfStream);
}
export function onRequestTrailers(contextId: u32, count: u32): Action {
  const context = http(contextId);
  return context === null ? Action.Continue : context.onRequestTrailers(count);
}
export function onResponseHeaders(contextId: u32, count: u32, endOfStream: bool): Action {
  const context = http(contextId);
  return context === null ? Action.Continue : context.onResponseHeaders(count, endOfStream);
}
export function onResponseBody(contextId: u32, size: u32, endOfStream: bool): Action {
  const context = http(contextId);
  return context === null ? Action.Continue : context.onResponseBody(size, endOfStream);
}
export function onResponseTrailers(contextId: u32, count: u32): Action {
  const context = http(contextId);
  return context === null ? Action.Continue : context.onResponseTrailers(count);
}

export function onNewConnection(contextId: u32): Action {
  const context = stream(contextId);
  return context === null ? Action.Continue : context.onNewConnection();
}
export function onDownstreamData(contextId: u32, size: u32, endOfStream: bool): Action {
  const context = stream(contextId);
  return context === null ? Action.Continue : context.onDownstreamData(size, endOfStream);
}
export function onUpstreamData(contextId: u32, size: u32, endOfStream: bool): Action {
  const context = stream(contextId);
  return context === null ? Action.Continue : context.onUpstreamData(size, endOfStream);
}
export function onDownstreamConnectionClose(contextId: u32, peer: u32): void {
  const context = stream(contextId);
  if (context !== null) context.onDownstreamConnectionClose(<PeerType>peer);
}
export function onUpstreamConnectionClose(contextId: u32, peer: u32): void {
  const context = stream(contextId);
  if (context !== null) context.onUpstreamConnectionClose(<PeerType>peer);
}

export function onDone(contextId: u32): bool {
  const context = find(contextId);
  return context === null ? true : context.onDone();
}
export function onLog(contextId: u32): void {
  const context = find(contextId);
  if (context !== null) context.onLog();
}
export function onDelete(contextId: u32): void {
  const context = find(contextId);
  if (context !== null) {
    context.onDelete();
    let pending = context.pendingCallouts;
    while (pending !== null) {
      forgetCallout(pending.token);
      pending = pending.next;
    }
    context.pendingCallouts = null;
    contexts.delete(contextId);
    if (lastId == contextId) lastContext = null;
  }
  enterContext(0);
}

// Callout responses go to the context that made the call, whatever id the host passes.
function owner(contextId: u32, token: u32, done: bool): BaseContext | null {
  const context = calloutOwner(token, done);
  if (context === null) return find(contextId);
  enterContext(context.id);
  if (context.id != contextId) proxy_set_effective_context(context.id);
  if (done) settleCallout(context, token);
  return context;
}

export function onHttpCallResponse(contextId: u32, token: u32, headers: u32, bodySize: u32, trailers: u32): void {
  const context = owner(contextId, token, true);
  if (context !== null) context.onHttpCallResponse(token, new HttpCallResponse(token, headers, bodySize, trailers));
}

export function onGrpcReceiveInitialMetadata(contextId: u32, token: u32, count: u32): void {
  const context = owner(contextId, token, false);
  if (context !== null) context.onGrpcReceiveInitialMetadata(token, count);
}
export function onGrpcReceive(contextId: u32, token: u32, size: u32): void {
  const context = owner(contextId, token, false);
  if (context !== null) context.onGrpcReceive(token, readBuffer(BufferType.GrpcReceiveBuffer, size));
}
export function onGrpcReceiveTrailingMetadata(contextId: u32, token: u32, count: u32): void {
  const context = owner(contextId, token, false);
  if (context !== null) context.onGrpcReceiveTrailingMetadata(token, count);
}
export function onGrpcClose(contextId: u32, token: u32, statusCode: u32): void {
  const context = owner(contextId, token, true);
  if (context !== null) context.onGrpcClose(token, statusCode);
}
