/**
 * `definePlugin`: the handlers a plugin is made of, and the dispatcher the glue calls for every
 * Proxy-Wasm callback.
 *
 * Awaiting: a stream handler that returns a promise pauses its stream (the callback answers
 * StopIteration). When the promise settles, the stream resumes (`proxy_continue_stream`), or gets the
 * local reply the handler returned. The glue drains the engine's job queue before a callback returns,
 * so a promise that settles within the same callback simply continues the stream without a pause.
 *
 * Failures: an exception thrown by a handler is logged at critical level with its stack (mapped to the
 * .ts sources) and the callback traps, so the host's failure policy applies as for any plugin trap. A
 * rejected handler promise, or any unhandled rejection, is logged the same way and fails only its
 * stream: an HTTP stream gets a 500 local reply, a TCP connection is closed.
 */

import { Action, BufferType, hostcall, LogLevel, StreamType } from "./abi.ts";
import { Callback, HostOp, TRAP } from "./abi-codes.ts";
import type { BodyChunk } from "./body.ts";
import { readBuffer } from "./body.ts";
import { onGrpcClose, onGrpcReceive, onHttpCallResponse } from "./callouts.ts";
import { type HttpRequest, type HttpResponse, HttpStream, Plugin, TcpConnection } from "./contexts.ts";
import { enteredContext, useContext } from "./effective-context.ts";
import { describeError } from "./error-report.ts";
import { isGrpcStream, onStreamClose, onStreamMessage, onStreamMetadata } from "./grpc-stream.ts";
import type { HeaderMap } from "./headers.ts";
import { LocalReply } from "./local-reply.ts";
import { logAt } from "./log.ts";
import { reseedRandom } from "./random.ts";
import { decodeUtf8 } from "./text-encoding.ts";

/** What a stream handler may return: nothing (continue), a local reply, "pause", or a promise of those. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler without a return statement returns void.
export type HandlerResult = void | LocalReply | "pause" | Promise<void | LocalReply>;

/** The handlers of a plugin. Every one is optional. */
export interface PluginDefinition<Config = string> {
  /**
   * Reads the plugin configuration (the text Envoy gives, often JSON) when the plugin starts or is
   * reconfigured. Its return value is `plugin.config` / `stream.config`. Throw to reject the
   * configuration: the error is logged and the plugin does not start.
   */
  configure?(configuration: string, plugin: Plugin<Config>): Config;
  /** The VM started (once per VM, with the VM configuration). Return false to fail the start. */
  start?(vmConfiguration: string, plugin: Plugin<Config>): boolean | undefined;
  /** Called every tick period (`plugin.setTickPeriod(ms)`). */
  tick?(plugin: Plugin<Config>): void;
  /** An item arrived on a shared queue this VM registered. */
  queueReady?(queueId: number, plugin: Plugin<Config>): void;
  /** The host called this plugin's foreign function `functionId` with `data`. */
  foreignFunction?(functionId: number, data: Uint8Array, plugin: Plugin<Config>): void;

  /** The request headers arrived (`request.headers` is live: reads and writes go to the host). */
  onRequestHeaders?(request: HttpRequest, stream: HttpStream<Config>, endOfStream: boolean): HandlerResult;
  /** A request body chunk arrived; return "pause" to buffer until `body.endOfStream`. */
  onRequestBody?(body: BodyChunk, stream: HttpStream<Config>): HandlerResult;
  onRequestTrailers?(trailers: HeaderMap, stream: HttpStream<Config>): HandlerResult;
  onResponseHeaders?(response: HttpResponse, stream: HttpStream<Config>, endOfStream: boolean): HandlerResult;
  onResponseBody?(body: BodyChunk, stream: HttpStream<Config>): HandlerResult;
  onResponseTrailers?(trailers: HeaderMap, stream: HttpStream<Config>): HandlerResult;
  /** The stream is complete (access-log time: request and response are readable). */
  onLog?(stream: HttpStream<Config> | TcpConnection<Config>): void;

  /** A TCP connection was accepted (network filter). */
  onNewConnection?(connection: TcpConnection<Config>): HandlerResult;
  onDownstreamData?(data: BodyChunk, connection: TcpConnection<Config>): HandlerResult;
  onUpstreamData?(data: BodyChunk, connection: TcpConnection<Config>): HandlerResult;
  /** A side closed the connection (peer: 0 unknown, 1 local, 2 remote). */
  onDownstreamClose?(peer: number, connection: TcpConnection<Config>): void;
  onUpstreamClose?(peer: number, connection: TcpConnection<Config>): void;
}

type Definition = PluginDefinition<unknown>;
type Stream = HttpStream<unknown> | TcpConnection<unknown>;

/** The stream direction a handler ran for, to resume it later. */
type Side = (typeof StreamType)[keyof typeof StreamType];

interface Awaiting {
  side: Side;
  /** Settled while its own callback was still running: the callback's answer changes instead. */
  settledInline: boolean;
  reply: LocalReply | undefined;
}

interface StreamRecord {
  stream: Stream | undefined;
  root: number;
  awaiting: Awaiting | undefined;
  failed: boolean;
}

let definition: Definition = {};
const plugins = new Map<number, Plugin<unknown>>();
const records = new Map<number, StreamRecord>();
/** The callback now running, while it runs (its inline settlements change its answer). */
let running: { record: StreamRecord; side: Side } | undefined;
let override: number | undefined;
const unhandled: Array<{ reason: unknown; context: number }> = [];
let lastContext = 0;
/**
 * The live streams whose `awaiting` is set. The glue hears every change of the count: while it is 0, it
 * answers the data callbacks of streams without a data handler itself (Continue) without entering.
 */
const waiting = new Set<StreamRecord>();

const NO_OVERRIDE = -2;

/** Sets or clears what a stream waits for, keeping the glue's count of waiting streams. */
function setAwaiting(record: StreamRecord, awaiting: Awaiting | undefined): void {
  record.awaiting = awaiting;
  const size = waiting.size;
  if (awaiting) waiting.add(record);
  else waiting.delete(record);
  if (waiting.size !== size) hostcall(HostOp.SetAwaitingStreams, waiting.size);
}

/** A record leaves `records` (its context is deleted or its id reused): it no longer counts as waiting. */
function forgetRecord(record: StreamRecord): void {
  if (waiting.delete(record)) hostcall(HostOp.SetAwaitingStreams, waiting.size);
}

function logCritical(what: string, error: unknown): void {
  logAt(LogLevel.Critical, `${what}: ${describeError(error)}`);
}

function pluginOf(root: number): Plugin<unknown> {
  let plugin = plugins.get(root);
  if (!plugin) {
    plugin = new Plugin<unknown>(root);
    plugins.set(root, plugin);
  }
  return plugin;
}

function httpStream(id: number): { record: StreamRecord; stream: HttpStream<unknown> } | undefined {
  const record = records.get(id);
  if (!record) return undefined;
  record.stream ??= new HttpStream<unknown>(id, pluginOf(record.root));
  return { record, stream: record.stream as HttpStream<unknown> };
}

function tcpConnection(id: number): { record: StreamRecord; stream: TcpConnection<unknown> } | undefined {
  const record = records.get(id);
  if (!record) return undefined;
  record.stream ??= new TcpConnection<unknown>(id, pluginOf(record.root));
  return { record, stream: record.stream as TcpConnection<unknown> };
}

/** Fails one stream: 500 local reply for HTTP, close for TCP. */
function failStream(record: StreamRecord): void {
  if (record.failed || !record.stream) return;
  record.failed = true;
  setAwaiting(record, undefined);
  const stream = record.stream;
  try {
    useContext(stream.id);
    if (stream instanceof HttpStream) {
      new LocalReply(500, "", { details: "wasm_plugin_error" }).send();
    } else {
      hostcall(HostOp.CloseStream, StreamType.Downstream);
    }
  } catch (error) {
    logCritical("failing the stream failed", error);
  }
}

function resume(record: StreamRecord, side: Side, reply: LocalReply | undefined): void {
  const stream = record.stream;
  if (!stream || record.failed) return;
  useContext(stream.id);
  if (reply) reply.send();
  else hostcall(HostOp.ContinueStream, side);
}

/** Turns a handler's result into the callback's action. */
function actionFor(record: StreamRecord, side: Side, result: HandlerResult): number {
  if (result === undefined) return Action.Continue;
  if (result === "pause") return Action.Pause;
  if (result instanceof LocalReply) {
    result.send();
    return Action.Pause;
  }
  if (typeof (result as Promise<unknown>)?.then === "function") {
    const awaiting: Awaiting = { side, settledInline: false, reply: undefined };
    setAwaiting(record, awaiting);
    (result as Promise<unknown>).then(
      (value) => {
        if (record.awaiting !== awaiting) return;
        setAwaiting(record, undefined);
        const reply = value instanceof LocalReply ? value : undefined;
        if (running?.record === record && running.side === side) {
          // Still inside the callback that started it: answer Continue (or send the reply) right away.
          if (reply) reply.send();
          override = reply ? Action.Pause : Action.Continue;
        } else {
          resume(record, side, reply);
        }
      },
      (error: unknown) => {
        if (record.awaiting !== awaiting) return;
        logCritical(`stream ${record.stream?.id}: handler failed`, error);
        failStream(record);
        if (running?.record === record) override = Action.Pause;
      },
    );
    return Action.Pause;
  }
  return Action.Continue;
}

/** Runs a stream handler (if the plugin has one) and answers the callback. */
function runStreamHandler(record: StreamRecord, side: Side, call: () => HandlerResult): number {
  if (record.failed) return Action.Continue;
  // Data that arrives while the stream waits for a handler's promise is buffered until it resumes.
  if (record.awaiting) return Action.Pause;
  running = { record, side };
  return actionFor(record, side, call());
}

function configurationText(type: (typeof BufferType)[keyof typeof BufferType], size: number): string {
  return size > 0 ? decodeUtf8(readBuffer(type, 0, size)) : "";
}

function onConfigure(root: number, size: number): number {
  const plugin = pluginOf(root);
  const text = configurationText(BufferType.PluginConfiguration, size);
  if (!definition.configure) {
    plugin.config = text;
    return 1;
  }
  try {
    plugin.config = definition.configure(text, plugin);
    return 1;
  } catch (error) {
    logAt(LogLevel.Error, `bad configuration: ${error instanceof Error ? error.message : String(error)}`);
    return 0;
  }
}

function onJobsDrained(): number {
  while (unhandled.length > 0) {
    const { reason, context } = unhandled.shift() as { reason: unknown; context: number };
    logCritical(`unhandled promise rejection (context ${context})`, reason);
    const record = records.get(context);
    if (record) failStream(record);
    if (record && running?.record === record) override = Action.Pause;
  }
  const answer = override;
  override = undefined;
  running = undefined;
  return answer ?? NO_OVERRIDE;
}

function onPromiseRejection(handled: number): number {
  const reason = hostcall(HostOp.TakeRejection);
  if (handled) {
    const index = unhandled.findIndex((entry) => entry.reason === reason);
    if (index >= 0) unhandled.splice(index, 1);
  } else {
    unhandled.push({ reason, context: lastContext });
  }
  return 0;
}

/** The glue's entry point for every callback. */
function dispatch(callback: Callback, id: number, a: number, b: number, c: number, _d: number): number {
  if (callback === Callback.JobsDrained) return onJobsDrained();
  if (callback === Callback.PromiseRejection) return onPromiseRejection(id);
  enteredContext(id);
  lastContext = id;
  // The glue reports drained jobs only when some ran: forget the previous callback's state here.
  running = undefined;
  override = undefined;
  try {
    return dispatchContext(callback, id, a, b, c);
  } catch (error) {
    logCritical(`${Callback[callback]} (context ${id}) threw`, error);
    return TRAP;
  }
}

function dispatchContext(callback: Callback, id: number, a: number, b: number, c: number): number {
  const d = definition;
  switch (callback) {
    case Callback.ContextCreate:
      if (a === 0) pluginOf(id);
      else {
        // A reused id replaces its old record, which must stop counting as waiting.
        const old = records.get(id);
        if (old) forgetRecord(old);
        records.set(id, { stream: undefined, root: a, awaiting: undefined, failed: false });
      }
      return 0;
    case Callback.VmStart: {
      reseedRandom();
      if (!d.start) return 1;
      return d.start(configurationText(BufferType.VmConfiguration, a), pluginOf(id)) === false ? 0 : 1;
    }
    case Callback.Configure:
      return onConfigure(id, a);
    case Callback.Tick:
      d.tick?.(pluginOf(id));
      return 0;
    case Callback.QueueReady:
      d.queueReady?.(a, pluginOf(id));
      return 0;
    case Callback.ForeignFunction:
      d.foreignFunction?.(a, readBuffer(BufferType.ForeignFunctionArguments, 0, b), pluginOf(id));
      return 0;
    case Callback.RequestHeaders: {
      const s = httpStream(id);
      if (!s || !d.onRequestHeaders) return Action.Continue;
      return runStreamHandler(s.record, StreamType.HttpRequest, () =>
        d.onRequestHeaders?.(s.stream.request, s.stream, b !== 0),
      );
    }
    case Callback.RequestBody: {
      const s = httpStream(id);
      if (!s || !d.onRequestBody) return s?.record.awaiting ? Action.Pause : Action.Continue;
      return runStreamHandler(s.record, StreamType.HttpRequest, () =>
        d.onRequestBody?.(s.stream.requestBody(a, b !== 0), s.stream),
      );
    }
    case Callback.RequestTrailers: {
      const s = httpStream(id);
      if (!s || !d.onRequestTrailers) return s?.record.awaiting ? Action.Pause : Action.Continue;
      return runStreamHandler(s.record, StreamType.HttpRequest, () =>
        d.onRequestTrailers?.(s.stream.request.trailers, s.stream),
      );
    }
    case Callback.ResponseHeaders: {
      const s = httpStream(id);
      if (!s || !d.onResponseHeaders) return Action.Continue;
      return runStreamHandler(s.record, StreamType.HttpResponse, () =>
        d.onResponseHeaders?.(s.stream.response, s.stream, b !== 0),
      );
    }
    case Callback.ResponseBody: {
      const s = httpStream(id);
      if (!s || !d.onResponseBody) return s?.record.awaiting ? Action.Pause : Action.Continue;
      return runStreamHandler(s.record, StreamType.HttpResponse, () =>
        d.onResponseBody?.(s.stream.responseBody(a, b !== 0), s.stream),
      );
    }
    case Callback.ResponseTrailers: {
      const s = httpStream(id);
      if (!s || !d.onResponseTrailers) return s?.record.awaiting ? Action.Pause : Action.Continue;
      return runStreamHandler(s.record, StreamType.HttpResponse, () =>
        d.onResponseTrailers?.(s.stream.response.trailers, s.stream),
      );
    }
    case Callback.NewConnection: {
      const s = tcpConnection(id);
      if (!s || !d.onNewConnection) return Action.Continue;
      return runStreamHandler(s.record, StreamType.Downstream, () => d.onNewConnection?.(s.stream));
    }
    case Callback.DownstreamData: {
      const s = tcpConnection(id);
      if (!s || !d.onDownstreamData) return s?.record.awaiting ? Action.Pause : Action.Continue;
      return runStreamHandler(s.record, StreamType.Downstream, () =>
        d.onDownstreamData?.(s.stream.downstreamData(a, b !== 0), s.stream),
      );
    }
    case Callback.UpstreamData: {
      const s = tcpConnection(id);
      if (!s || !d.onUpstreamData) return s?.record.awaiting ? Action.Pause : Action.Continue;
      return runStreamHandler(s.record, StreamType.Upstream, () =>
        d.onUpstreamData?.(s.stream.upstreamData(a, b !== 0), s.stream),
      );
    }
    case Callback.DownstreamClose: {
      const s = tcpConnection(id);
      if (s) d.onDownstreamClose?.(a, s.stream);
      return 0;
    }
    case Callback.UpstreamClose: {
      const s = tcpConnection(id);
      if (s) d.onUpstreamClose?.(a, s.stream);
      return 0;
    }
    case Callback.Done:
      return 1;
    case Callback.Log: {
      const record = records.get(id);
      if (record?.stream && d.onLog) d.onLog(record.stream);
      return 0;
    }
    case Callback.Delete: {
      const record = records.get(id);
      if (record) forgetRecord(record);
      records.delete(id);
      plugins.delete(id);
      return 0;
    }
    case Callback.HttpCallResponse:
      onHttpCallResponse(a, b, c);
      return 0;
    case Callback.GrpcReceive:
      if (isGrpcStream(a)) onStreamMessage(a, b);
      else onGrpcReceive(a, b);
      return 0;
    case Callback.GrpcClose:
      if (isGrpcStream(a)) onStreamClose(a, b);
      else onGrpcClose(a, b);
      return 0;
    case Callback.GrpcReceiveInitialMetadata:
      onStreamMetadata(a, false);
      return 0;
    case Callback.GrpcReceiveTrailingMetadata:
      onStreamMetadata(a, true);
      return 0;
    default:
      return 0;
  }
}

/** `1 << callback` for each callback. */
function bits(...callbacks: Callback[]): number {
  return callbacks.reduce((mask, callback) => mask | (1 << callback), 0);
}

/**
 * The callbacks the glue may answer itself (Continue, nothing, or 1 for Done), because `dispatchContext`
 * would do nothing else for them under this definition: no handler runs and no record changes. The
 * second mask needs no stream waiting for a promise, as data then pauses. Entering also creates a
 * stream's object, which `onLog` needs: a plugin with `onLog` has every stream callback entered.
 */
function skippableCallbacks(d: Definition): [always: number, whenNoneAwaiting: number] {
  let always = bits(Callback.Done);
  let whenNoneAwaiting = 0;
  if (!d.tick) always |= bits(Callback.Tick);
  if (!d.queueReady) always |= bits(Callback.QueueReady);
  if (!d.foreignFunction) always |= bits(Callback.ForeignFunction);
  if (d.onLog) return [always, whenNoneAwaiting];
  always |= bits(Callback.Log);
  if (!d.onRequestHeaders) always |= bits(Callback.RequestHeaders);
  if (!d.onResponseHeaders) always |= bits(Callback.ResponseHeaders);
  if (!d.onNewConnection) always |= bits(Callback.NewConnection);
  if (!d.onDownstreamClose) always |= bits(Callback.DownstreamClose);
  if (!d.onUpstreamClose) always |= bits(Callback.UpstreamClose);
  if (!d.onRequestBody) whenNoneAwaiting |= bits(Callback.RequestBody);
  if (!d.onRequestTrailers) whenNoneAwaiting |= bits(Callback.RequestTrailers);
  if (!d.onResponseBody) whenNoneAwaiting |= bits(Callback.ResponseBody);
  if (!d.onResponseTrailers) whenNoneAwaiting |= bits(Callback.ResponseTrailers);
  if (!d.onDownstreamData) whenNoneAwaiting |= bits(Callback.DownstreamData);
  if (!d.onUpstreamData) whenNoneAwaiting |= bits(Callback.UpstreamData);
  return [always, whenNoneAwaiting];
}

/**
 * Defines the plugin: call it once, at the top level of the entry file, with the handlers. Which handlers
 * exist is read then (the glue skips the callbacks that have none), so add none to the object later.
 *
 * ```ts
 * definePlugin({
 *   onRequestHeaders(request) {
 *     request.headers.set("x-hello", "world");
 *   },
 * });
 * ```
 */
export function definePlugin<Config = string>(handlers: PluginDefinition<Config>): PluginDefinition<Config> {
  definition = handlers as Definition;
  (globalThis as Record<string, unknown>).__pwts_dispatch = dispatch;
  // Runs at build time (the bundle's top level): the glue keeps the masks in the snapshot.
  hostcall(HostOp.SetSkippableCallbacks, ...skippableCallbacks(definition));
  return handlers;
}
