/**
 * The numbers the engine glue and the guest API agree on. This file is read by both sides: the glue
 * (AssemblyScript, `glue/index.ts`) and the guest runtime (TypeScript, bundled into each plugin), so it
 * holds nothing but two plain enums.
 */

/** Hostcalls the guest makes through the glue's one host function (`__pwts_host(op, ...args)`). */
export enum HostOp {
  Log = 1,
  GetLogLevel = 2,
  CurrentTimeNanos = 3,
  SetTickPeriod = 4,
  GetBufferBytes = 5,
  SetBufferBytes = 6,
  GetBufferStatus = 7,
  GetHeaderMapPairs = 8,
  SetHeaderMapPairs = 9,
  GetHeaderMapValue = 10,
  AddHeaderMapValue = 11,
  ReplaceHeaderMapValue = 12,
  RemoveHeaderMapValue = 13,
  GetHeaderMapSize = 14,
  GetProperty = 15,
  SetProperty = 16,
  SendLocalResponse = 17,
  ContinueStream = 18,
  CloseStream = 19,
  SetEffectiveContext = 20,
  Done = 21,
  HttpCall = 22,
  GrpcCall = 23,
  GrpcStream = 24,
  GrpcSend = 25,
  GrpcCancel = 26,
  GrpcClose = 27,
  GetSharedData = 28,
  SetSharedData = 29,
  RegisterSharedQueue = 30,
  ResolveSharedQueue = 31,
  EnqueueSharedQueue = 32,
  DequeueSharedQueue = 33,
  DefineMetric = 34,
  IncrementMetric = 35,
  RecordMetric = 36,
  GetMetric = 37,
  CallForeignFunction = 38,
  GetStatus = 39,
  /** The second out-value of the previous hostcall (buffer flags, shared-data CAS, status code). */
  Extra = 40,
  /** UTF-8 encode a string into an ArrayBuffer (TextEncoder). */
  Utf8Encode = 41,
  /** UTF-8 decode an ArrayBuffer into a string (TextDecoder). */
  Utf8Decode = 42,
  /** The reason of the last unhandled promise rejection the engine reported (then forgotten). */
  TakeRejection = 43,
  /** `n` random bytes from WASI random_get (an ArrayBuffer). */
  RandomBytes = 44,
  /**
   * Which callbacks the glue may answer without entering the engine, as two bitmasks of `1 << Callback`:
   * those the plugin has no handler for whatever happens, and those it may skip only while no stream
   * waits for a handler's promise (data that arrives then must be paused by the guest).
   */
  SetSkippableCallbacks = 45,
  /** How many streams now wait for a handler's promise (the glue skips nothing await-sensitive while > 0). */
  SetAwaitingStreams = 46,
  /** How many times the glue has entered the engine's dispatcher (for tests of the skipping above). */
  EngineEntries = 47,
}

/** Callbacks the glue forwards to the guest's dispatcher (`dispatch(callback, a, b, c, d, e)`). */
export enum Callback {
  ContextCreate = 1,
  VmStart = 2,
  Configure = 3,
  Tick = 4,
  QueueReady = 5,
  ForeignFunction = 6,
  RequestHeaders = 7,
  RequestBody = 8,
  RequestTrailers = 9,
  ResponseHeaders = 10,
  ResponseBody = 11,
  ResponseTrailers = 12,
  NewConnection = 13,
  DownstreamData = 14,
  UpstreamData = 15,
  DownstreamClose = 16,
  UpstreamClose = 17,
  Done = 18,
  Log = 19,
  Delete = 20,
  HttpCallResponse = 21,
  GrpcReceiveInitialMetadata = 22,
  GrpcReceive = 23,
  GrpcReceiveTrailingMetadata = 24,
  GrpcClose = 25,
  /** A promise was rejected with no handler (a = 0), or a handler was attached later (a = 1). */
  PromiseRejection = 26,
  /** The engine's job queue ran empty after a callback: settle what the jobs decided. */
  JobsDrained = 27,
}

/** What the dispatcher returns when the callback must trap (an exception it already logged). */
export const TRAP = -1;
