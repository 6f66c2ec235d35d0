// The engine glue: an AssemblyScript module that pwts build merges (binaryen wasm-merge) with
// quickjs-wasi's QuickJS-NG reactor into one Proxy-Wasm module.
//
// - It exports every proxy_on_* callback and forwards each to the guest's dispatcher, a JS function the
//   guest runtime hands over at build time (`pwts_set_dispatcher`), then runs the engine's job queue so
//   awaited promises settle inside the same callback.
// - It implements quickjs-wasi's `host_call` import: the guest's one host function `__pwts_host(op, ...)`
//   lands here, its arguments become i32/i64 slots (a string or ArrayBuffer becomes pointer + length),
//   the op picks the env.proxy_* hostcall, and its out-values become a JS value.
//
// It shares QuickJS's memory and allocator (imported as qjs.memory, qjs.wasm_malloc), so it must own no
// static data: no string literals, no managed objects. Everything it keeps lives in wasm globals, which
// the build-time snapshot bakes in with the memory.

import { Callback, HostOp, TRAP } from "../src/abi-codes";

// QuickJS-NG through quickjs-wasi's C interface (c/interface.c): JS values are heap boxes (JSValue*).
@external("qjs", "qjs_call") declare function qjs_call(fn: u32, self: u32, argc: i32, argv: u32): u32;
@external("qjs", "qjs_new_number") declare function qjs_new_number(value: f64): u32;
@external("qjs", "qjs_get_float64") declare function qjs_get_float64(value: u32): f64;
@external("qjs", "qjs_new_string") declare function qjs_new_string(ptr: u32, len: u32): u32;
@external("qjs", "qjs_get_string_len") declare function qjs_get_string_len(value: u32, lenOut: u32): u32;
@external("qjs", "qjs_free_cstring") declare function qjs_free_cstring(ptr: u32): void;
@external("qjs", "qjs_new_array_buffer") declare function qjs_new_array_buffer(ptr: u32, len: u32): u32;
@external("qjs", "qjs_get_array_buffer") declare function qjs_get_array_buffer(value: u32, lenOut: u32): u32;
@external("qjs", "qjs_new_array") declare function qjs_new_array(): u32;
@external("qjs", "qjs_set_prop_uint32") declare function qjs_set_prop_uint32(obj: u32, index: u32, value: u32): i32;
@external("qjs", "qjs_is_number") declare function qjs_is_number(value: u32): i32;
@external("qjs", "qjs_is_string") declare function qjs_is_string(value: u32): i32;
@external("qjs", "qjs_is_array_buffer") declare function qjs_is_array_buffer(value: u32): i32;
@external("qjs", "qjs_is_exception") declare function qjs_is_exception(value: u32): i32;
@external("qjs", "qjs_free_value") declare function qjs_free_value(value: u32): void;
@external("qjs", "qjs_dup_value") declare function qjs_dup_value(value: u32): u32;
@external("qjs", "qjs_get_undefined") declare function qjs_get_undefined(): u32;
@external("qjs", "qjs_is_job_pending") declare function qjs_is_job_pending(): i32;
@external("qjs", "qjs_execute_pending_job") declare function qjs_execute_pending_job(): i32;
@external("qjs", "qjs_get_exception") declare function qjs_get_exception(): u32;
@external("qjs", "qjs_throw") declare function qjs_throw(value: u32): u32;
@external("qjs", "wasm_malloc") declare function wasm_malloc(size: u32): u32;
@external("qjs", "wasm_free") declare function wasm_free(ptr: u32): void;

// Randomness from the host (cpp-host implements random_get; QuickJS imports it too).
@external("wasi_snapshot_preview1", "random_get") declare function random_get(ptr: u32, len: u32): u16;

// The Proxy-Wasm ABI v0.2.1 hostcalls (imported from env, as Envoy provides them).
@external("env", "proxy_log") declare function proxy_log(level: i32, ptr: u32, len: u32): i32;
@external("env", "proxy_get_log_level") declare function proxy_get_log_level(out: u32): i32;
@external("env", "proxy_get_current_time_nanoseconds") declare function proxy_get_current_time_nanoseconds(out: u32): i32;
@external("env", "proxy_set_tick_period_milliseconds") declare function proxy_set_tick_period_milliseconds(ms: u32): i32;
@external("env", "proxy_get_buffer_bytes") declare function proxy_get_buffer_bytes(kind: i32, start: u32, len: u32, outPtr: u32, outLen: u32): i32;
@external("env", "proxy_set_buffer_bytes") declare function proxy_set_buffer_bytes(kind: i32, start: u32, len: u32, ptr: u32, size: u32): i32;
@external("env", "proxy_get_buffer_status") declare function proxy_get_buffer_status(kind: i32, outLen: u32, outFlags: u32): i32;
@external("env", "proxy_get_header_map_pairs") declare function proxy_get_header_map_pairs(kind: i32, outPtr: u32, outLen: u32): i32;
@external("env", "proxy_set_header_map_pairs") declare function proxy_set_header_map_pairs(kind: i32, ptr: u32, len: u32): i32;
@external("env", "proxy_get_header_map_value") declare function proxy_get_header_map_value(kind: i32, kp: u32, kl: u32, outPtr: u32, outLen: u32): i32;
@external("env", "proxy_add_header_map_value") declare function proxy_add_header_map_value(kind: i32, kp: u32, kl: u32, vp: u32, vl: u32): i32;
@external("env", "proxy_replace_header_map_value") declare function proxy_replace_header_map_value(kind: i32, kp: u32, kl: u32, vp: u32, vl: u32): i32;
@external("env", "proxy_remove_header_map_value") declare function proxy_remove_header_map_value(kind: i32, kp: u32, kl: u32): i32;
@external("env", "proxy_get_header_map_size") declare function proxy_get_header_map_size(kind: i32, out: u32): i32;
@external("env", "proxy_get_property") declare function proxy_get_property(pp: u32, pl: u32, outPtr: u32, outLen: u32): i32;
@external("env", "proxy_set_property") declare function proxy_set_property(pp: u32, pl: u32, vp: u32, vl: u32): i32;
@external("env", "proxy_send_local_response") declare function proxy_send_local_response(
  status: u32, dp: u32, dl: u32, bp: u32, bl: u32, hp: u32, hl: u32, grpcStatus: i32,
): i32;
@external("env", "proxy_continue_stream") declare function proxy_continue_stream(kind: i32): i32;
@external("env", "proxy_close_stream") declare function proxy_close_stream(kind: i32): i32;
@external("env", "proxy_set_effective_context") declare function proxy_set_effective_context(id: u32): i32;
@external("env", "proxy_done") declare function proxy_done(): i32;
@external("env", "proxy_http_call") declare function proxy_http_call(
  up: u32, ul: u32, hp: u32, hl: u32, bp: u32, bl: u32, tp: u32, tl: u32, timeout: u32, out: u32,
): i32;
@external("env", "proxy_grpc_call") declare function proxy_grpc_call(
  sp: u32, sl: u32, np: u32, nl: u32, mp: u32, ml: u32, ip: u32, il: u32, xp: u32, xl: u32, timeout: u32, out: u32,
): i32;
@external("env", "proxy_grpc_stream") declare function proxy_grpc_stream(
  sp: u32, sl: u32, np: u32, nl: u32, mp: u32, ml: u32, ip: u32, il: u32, out: u32,
): i32;
@external("env", "proxy_grpc_send") declare function proxy_grpc_send(token: u32, mp: u32, ml: u32, endStream: u32): i32;
@external("env", "proxy_grpc_cancel") declare function proxy_grpc_cancel(token: u32): i32;
@external("env", "proxy_grpc_close") declare function proxy_grpc_close(token: u32): i32;
@external("env", "proxy_get_status") declare function proxy_get_status(outCode: u32, outPtr: u32, outLen: u32): i32;
@external("env", "proxy_get_shared_data") declare function proxy_get_shared_data(kp: u32, kl: u32, outPtr: u32, outLen: u32, outCas: u32): i32;
@external("env", "proxy_set_shared_data") declare function proxy_set_shared_data(kp: u32, kl: u32, vp: u32, vl: u32, cas: u32): i32;
@external("env", "proxy_register_shared_queue") declare function proxy_register_shared_queue(np: u32, nl: u32, out: u32): i32;
@external("env", "proxy_resolve_shared_queue") declare function proxy_resolve_shared_queue(vp: u32, vl: u32, np: u32, nl: u32, out: u32): i32;
@external("env", "proxy_enqueue_shared_queue") declare function proxy_enqueue_shared_queue(token: u32, dp: u32, dl: u32): i32;
@external("env", "proxy_dequeue_shared_queue") declare function proxy_dequeue_shared_queue(token: u32, outPtr: u32, outLen: u32): i32;
@external("env", "proxy_define_metric") declare function proxy_define_metric(kind: i32, np: u32, nl: u32, out: u32): i32;
@external("env", "proxy_increment_metric") declare function proxy_increment_metric(id: u32, offset: i64): i32;
@external("env", "proxy_record_metric") declare function proxy_record_metric(id: u32, value: u64): i32;
@external("env", "proxy_get_metric") declare function proxy_get_metric(id: u32, out: u32): i32;
@external("env", "proxy_call_foreign_function") declare function proxy_call_foreign_function(np: u32, nl: u32, ap: u32, al: u32, outPtr: u32, outLen: u32): i32;

// How a hostcall's out-values become the JS result (on a non-OK status the result is -status).
const RESULT_STATUS: i32 = 0;
const RESULT_U32: i32 = 1;
const RESULT_U64: i32 = 2;
const RESULT_BYTES: i32 = 3;
const RESULT_STRING: i32 = 4;
const RESULT_PAIRS: i32 = 5;

const MAX_SLOTS: i32 = 16;
const MAX_CSTRINGS: i32 = 8;
const DISPATCH_ARGS: i32 = 6;

/** The guest's dispatcher function (a JSValue box kept alive for the VM's lifetime). */
let dispatcher: u32 = 0;
/** Scratch memory, allocated once by pwts_set_dispatcher: argument slots (i64), out-values, cstrings. */
let slots: u32 = 0;
let outs: u32 = 0;
let cstrings: u32 = 0;
let cstringCount: i32 = 0;
/** The second out-value of the last hostcall (HostOp.Extra). */
let extra: u64 = 0;
/** The reason of the last unhandled rejection (a JSValue box, or 0). */
let rejection: u32 = 0;
/** Depth of dispatcher calls: jobs run only when the outermost returns. */
let depth: i32 = 0;
/** A rejection was reported since the guest last heard that jobs drained. */
let rejectionReported: bool = false;
/**
 * Callbacks (bits `1 << Callback`) the guest has no handler for, so entering the engine would only
 * answer the default: the guest sets them when `definePlugin` runs, at build time, and the snapshot
 * keeps them. Zero (enter for everything) until then.
 */
let skippable: u32 = 0;
/** Callbacks skippable only while no stream waits for a handler's promise (the guest pauses its data). */
let skippableWhenNoneAwaiting: u32 = 0;
/** Streams now waiting for a handler's promise (HostOp.SetAwaitingStreams). */
let awaitingStreams: u32 = 0;
/** Calls into the dispatcher so far (HostOp.EngineEntries, for tests). */
let engineEntries: u32 = 0;

/** Build time: keeps the guest's dispatcher (it ends up in the snapshot). */
export function pwts_set_dispatcher(fn: u32): void {
  dispatcher = qjs_dup_value(fn);
  allocateScratch();
}

/** Allocates the scratch memory once: the bundle's top-level code may call the host before the dispatcher is set. */
function allocateScratch(): void {
  if (slots != 0) return;
  slots = wasm_malloc(<u32>MAX_SLOTS * 8);
  outs = wasm_malloc(32);
  cstrings = wasm_malloc(<u32>MAX_CSTRINGS * 4);
}

/** Marks the module as Proxy-Wasm ABI v0.2.1 (hosts look for this export). */
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_memory_allocate(size: u32): u32 {
  return wasm_malloc(size);
}

// ---- guest dispatch -------------------------------------------------------------------------------

/** Runs the engine's pending jobs; returns how many ran. */
function runJobs(): i32 {
  let ran = 0;
  while (qjs_is_job_pending() != 0) {
    // A failing job is a rejected promise; the rejection tracker has reported it.
    qjs_execute_pending_job();
    ran++;
  }
  return ran;
}

/**
 * Whether the guest would only answer `callback` with its default, so it need not be entered. Only
 * outside other callbacks (a nested callback's entry resets the guest's per-callback state) and with no
 * job pending (an entered callback would run it).
 */
function skips(callback: i32): bool {
  const bit: u32 = 1 << <u32>callback;
  if ((skippable & bit) == 0 && ((skippableWhenNoneAwaiting & bit) == 0 || awaitingStreams != 0)) return false;
  return depth == 0 && !rejectionReported && qjs_is_job_pending() == 0;
}

/** Calls the dispatcher with numeric arguments; traps when it asks to (an exception it logged). */
function dispatch(callback: i32, a: u32, b: u32, c: u32, d: u32, e: u32): i32 {
  // What the guest answers without a handler (plugin.ts dispatchContext): Continue, or nothing for the
  // void callbacks (0), and "done" (1) for on_done: the context may be deleted at once.
  if (skips(callback)) return callback == Callback.Done ? 1 : 0;
  engineEntries++;
  const frame = wasm_malloc(<u32>DISPATCH_ARGS * 4);
  store<u32>(frame, qjs_new_number(<f64>callback));
  store<u32>(frame, qjs_new_number(<f64>a), 4);
  store<u32>(frame, qjs_new_number(<f64>b), 8);
  store<u32>(frame, qjs_new_number(<f64>c), 12);
  store<u32>(frame, qjs_new_number(<f64>d), 16);
  store<u32>(frame, qjs_new_number(<f64>e), 20);
  depth++;
  const undef = qjs_get_undefined();
  const result = qjs_call(dispatcher, undef, DISPATCH_ARGS, frame);
  qjs_free_value(undef);
  for (let i = 0; i < DISPATCH_ARGS; i++) qjs_free_value(load<u32>(frame + <u32>i * 4));
  wasm_free(frame);
  let value: i32 = 0;
  const failed = qjs_is_exception(result) != 0;
  if (!failed) value = <i32>(<i64>qjs_get_float64(result));
  qjs_free_value(result);
  // The guest needs to hear that jobs ran (or a rejection was reported) only when one did: a plain
  // synchronous callback costs one call into the engine, not two.
  if (depth == 1 && !failed && value != TRAP && (runJobs() > 0 || rejectionReported)) {
    rejectionReported = false;
    // Let the guest act on what the jobs settled (resume streams, fail rejected ones).
    depth++;
    const u = qjs_get_undefined();
    const drained = wasm_malloc(<u32>DISPATCH_ARGS * 4);
    store<u32>(drained, qjs_new_number(<f64>Callback.JobsDrained));
    for (let i = 1; i < DISPATCH_ARGS; i++) store<u32>(drained + <u32>i * 4, qjs_new_number(0));
    const after = qjs_call(dispatcher, u, DISPATCH_ARGS, drained);
    qjs_free_value(u);
    for (let i = 0; i < DISPATCH_ARGS; i++) qjs_free_value(load<u32>(drained + <u32>i * 4));
    wasm_free(drained);
    const afterFailed = qjs_is_exception(after) != 0;
    const answer = afterFailed ? TRAP : <i32>(<i64>qjs_get_float64(after));
    qjs_free_value(after);
    // The guest may change the callback's answer: a promise it paused for settled within the callback.
    if (answer >= 0) value = answer;
    depth--;
    if (answer == TRAP) {
      depth--;
      unreachable();
    }
  }
  depth--;
  // The dispatcher logs guest exceptions itself; an exception escaping it is the runtime's own bug.
  if (failed || value == TRAP) unreachable();
  return value;
}

export function proxy_on_context_create(id: u32, parent: u32): void {
  dispatch(Callback.ContextCreate, id, parent, 0, 0, 0);
}
export function proxy_on_vm_start(id: u32, size: u32): u32 {
  return dispatch(Callback.VmStart, id, size, 0, 0, 0);
}
export function proxy_on_configure(id: u32, size: u32): u32 {
  return dispatch(Callback.Configure, id, size, 0, 0, 0);
}
export function proxy_on_tick(id: u32): void {
  dispatch(Callback.Tick, id, 0, 0, 0, 0);
}
export function proxy_on_queue_ready(id: u32, queue: u32): void {
  dispatch(Callback.QueueReady, id, queue, 0, 0, 0);
}
export function proxy_on_foreign_function(id: u32, fn: u32, size: u32): void {
  dispatch(Callback.ForeignFunction, id, fn, size, 0, 0);
}
export function proxy_on_request_headers(id: u32, count: u32, eos: u32): u32 {
  return dispatch(Callback.RequestHeaders, id, count, eos, 0, 0);
}
export function proxy_on_request_body(id: u32, size: u32, eos: u32): u32 {
  return dispatch(Callback.RequestBody, id, size, eos, 0, 0);
}
export function proxy_on_request_trailers(id: u32, count: u32): u32 {
  return dispatch(Callback.RequestTrailers, id, count, 0, 0, 0);
}
export function proxy_on_response_headers(id: u32, count: u32, eos: u32): u32 {
  return dispatch(Callback.ResponseHeaders, id, count, eos, 0, 0);
}
export function proxy_on_response_body(id: u32, size: u32, eos: u32): u32 {
  return dispatch(Callback.ResponseBody, id, size, eos, 0, 0);
}
export function proxy_on_response_trailers(id: u32, count: u32): u32 {
  return dispatch(Callback.ResponseTrailers, id, count, 0, 0, 0);
}
export function proxy_on_new_connection(id: u32): u32 {
  return dispatch(Callback.NewConnection, id, 0, 0, 0, 0);
}
export function proxy_on_downstream_data(id: u32, size: u32, eos: u32): u32 {
  return dispatch(Callback.DownstreamData, id, size, eos, 0, 0);
}
export function proxy_on_upstream_data(id: u32, size: u32, eos: u32): u32 {
  return dispatch(Callback.UpstreamData, id, size, eos, 0, 0);
}
export function proxy_on_downstream_connection_close(id: u32, peer: u32): void {
  dispatch(Callback.DownstreamClose, id, peer, 0, 0, 0);
}
export function proxy_on_upstream_connection_close(id: u32, peer: u32): void {
  dispatch(Callback.UpstreamClose, id, peer, 0, 0, 0);
}
export function proxy_on_done(id: u32): u32 {
  return dispatch(Callback.Done, id, 0, 0, 0, 0);
}
export function proxy_on_log(id: u32): void {
  dispatch(Callback.Log, id, 0, 0, 0, 0);
}
export function proxy_on_delete(id: u32): void {
  dispatch(Callback.Delete, id, 0, 0, 0, 0);
}
export function proxy_on_http_call_response(id: u32, token: u32, headers: u32, body: u32, trailers: u32): void {
  dispatch(Callback.HttpCallResponse, id, token, headers, body, trailers);
}
export function proxy_on_grpc_receive_initial_metadata(id: u32, token: u32, count: u32): void {
  dispatch(Callback.GrpcReceiveInitialMetadata, id, token, count, 0, 0);
}
export function proxy_on_grpc_receive(id: u32, token: u32, size: u32): void {
  dispatch(Callback.GrpcReceive, id, token, size, 0, 0);
}
export function proxy_on_grpc_receive_trailing_metadata(id: u32, token: u32, count: u32): void {
  dispatch(Callback.GrpcReceiveTrailingMetadata, id, token, count, 0, 0);
}
export function proxy_on_grpc_close(id: u32, token: u32, status: u32): void {
  dispatch(Callback.GrpcClose, id, token, status, 0, 0);
}

// ---- quickjs-wasi host imports --------------------------------------------------------------------

/** QuickJS reports a promise rejected with no handler (handled = 0) or a handler added later (1). */
export function host_promise_rejection(promise: u32, reason: u32, handled: i32): void {
  // Kept for the guest (HostOp.TakeRejection): it matches a later "handled" report to the earlier one.
  if (rejection != 0) qjs_free_value(rejection);
  rejection = reason;
  rejectionReported = true;
  qjs_free_value(promise);
  if (dispatcher != 0) dispatch(Callback.PromiseRejection, <u32>handled, 0, 0, 0, 0);
}

/** No interrupts: a callback's time limit is the host's (as for any plugin). */
export function host_interrupt(): i32 {
  return 0;
}

/** Plugins are one bundled script: no module loader. */
export function host_module_normalize(_base: u32, _name: u32): u32 {
  return 0;
}
export function host_module_load(_name: u32, _lenOut: u32): u32 {
  return 0;
}

/** Envoy runs in UTC as far as a plugin can tell (no timezone database in a Wasm VM). */
export function host_get_timezone_offset(_hi: i32, _lo: i32): i32 {
  return 0;
}

function slot(i: i32): u32 {
  return <u32>load<i64>(slots + <u32>i * 8);
}
function slot64(i: i32): i64 {
  return load<i64>(slots + <u32>i * 8);
}
function out(i: i32): u32 {
  return outs + <u32>i * 8;
}

/** Turns the call's arguments (after the op) into slots; strings and ArrayBuffers take two. */
function fillSlots(argc: i32, args: u32): void {
  let n: i32 = 0;
  cstringCount = 0;
  for (let i = 1; i < argc && n < MAX_SLOTS - 1; i++) {
    const value = load<u32>(args + <u32>i * 4);
    const at = slots + <u32>n * 8;
    if (qjs_is_number(value) != 0) {
      store<i64>(at, <i64>qjs_get_float64(value));
      n++;
    } else if (qjs_is_string(value) != 0) {
      const ptr = qjs_get_string_len(value, outs);
      store<i64>(at, <i64>ptr);
      store<i64>(at, <i64>load<u32>(outs), 8);
      if (cstringCount < MAX_CSTRINGS) {
        store<u32>(cstrings + <u32>cstringCount * 4, ptr);
        cstringCount++;
      }
      n += 2;
    } else if (qjs_is_array_buffer(value) != 0) {
      const ptr = qjs_get_array_buffer(value, outs);
      store<i64>(at, <i64>ptr);
      store<i64>(at, <i64>load<u32>(outs), 8);
      n += 2;
    } else {
      // undefined / null: an absent string or buffer.
      store<i64>(at, 0);
      store<i64>(at, 0, 8);
      n += 2;
    }
  }
}

function freeCstrings(): void {
  for (let i = 0; i < cstringCount; i++) qjs_free_cstring(load<u32>(cstrings + <u32>i * 4));
  cstringCount = 0;
}

/** Header pairs (count, then key/value lengths, then NUL-terminated bytes) as [k0, v0, k1, v1, ...]. */
function pairsToArray(ptr: u32, len: u32): u32 {
  const array = qjs_new_array();
  if (len < 4) return array;
  const count = load<u32>(ptr);
  let data = ptr + 4 + count * 8;
  for (let i: u32 = 0; i < count; i++) {
    const keyLen = load<u32>(ptr + 4 + i * 8);
    const valueLen = load<u32>(ptr + 8 + i * 8);
    const key = qjs_new_string(data, keyLen);
    qjs_set_prop_uint32(array, i * 2, key);
    qjs_free_value(key);
    data += keyLen + 1;
    const value = qjs_new_string(data, valueLen);
    qjs_set_prop_uint32(array, i * 2 + 1, value);
    qjs_free_value(value);
    data += valueLen + 1;
  }
  return array;
}

/** Runs one hostcall; returns the result kind (the status is in `status`). */
function runOp(op: i32): i64 {
  // Result kind in the high word, status in the low word.
  let kind: i32 = RESULT_STATUS;
  let status: i32 = 0;
  switch (op) {
    case HostOp.Log: status = proxy_log(<i32>slot(0), slot(1), slot(2)); break;
    case HostOp.GetLogLevel: status = proxy_get_log_level(out(0)); kind = RESULT_U32; break;
    case HostOp.CurrentTimeNanos: status = proxy_get_current_time_nanoseconds(out(0)); kind = RESULT_U64; break;
    case HostOp.SetTickPeriod: status = proxy_set_tick_period_milliseconds(slot(0)); break;
    case HostOp.GetBufferBytes:
      status = proxy_get_buffer_bytes(<i32>slot(0), slot(1), slot(2), out(0), out(1));
      kind = RESULT_BYTES;
      break;
    case HostOp.SetBufferBytes: status = proxy_set_buffer_bytes(<i32>slot(0), slot(1), slot(2), slot(3), slot(4)); break;
    case HostOp.GetBufferStatus:
      status = proxy_get_buffer_status(<i32>slot(0), out(0), out(1));
      extra = load<u32>(out(1));
      kind = RESULT_U32;
      break;
    case HostOp.GetHeaderMapPairs:
      status = proxy_get_header_map_pairs(<i32>slot(0), out(0), out(1));
      kind = RESULT_PAIRS;
      break;
    case HostOp.SetHeaderMapPairs: status = proxy_set_header_map_pairs(<i32>slot(0), slot(1), slot(2)); break;
    case HostOp.GetHeaderMapValue:
      status = proxy_get_header_map_value(<i32>slot(0), slot(1), slot(2), out(0), out(1));
      kind = RESULT_STRING;
      break;
    case HostOp.AddHeaderMapValue:
      status = proxy_add_header_map_value(<i32>slot(0), slot(1), slot(2), slot(3), slot(4));
      break;
    case HostOp.ReplaceHeaderMapValue:
      status = proxy_replace_header_map_value(<i32>slot(0), slot(1), slot(2), slot(3), slot(4));
      break;
    case HostOp.RemoveHeaderMapValue: status = proxy_remove_header_map_value(<i32>slot(0), slot(1), slot(2)); break;
    case HostOp.GetHeaderMapSize: status = proxy_get_header_map_size(<i32>slot(0), out(0)); kind = RESULT_U32; break;
    case HostOp.GetProperty: status = proxy_get_property(slot(0), slot(1), out(0), out(1)); kind = RESULT_BYTES; break;
    case HostOp.SetProperty: status = proxy_set_property(slot(0), slot(1), slot(2), slot(3)); break;
    case HostOp.SendLocalResponse:
      status = proxy_send_local_response(slot(0), slot(1), slot(2), slot(3), slot(4), slot(5), slot(6), <i32>slot(7));
      break;
    case HostOp.ContinueStream: status = proxy_continue_stream(<i32>slot(0)); break;
    case HostOp.CloseStream: status = proxy_close_stream(<i32>slot(0)); break;
    case HostOp.SetEffectiveContext: status = proxy_set_effective_context(slot(0)); break;
    case HostOp.Done: status = proxy_done(); break;
    case HostOp.HttpCall:
      status = proxy_http_call(slot(0), slot(1), slot(2), slot(3), slot(4), slot(5), slot(6), slot(7), slot(8), out(0));
      kind = RESULT_U32;
      break;
    case HostOp.GrpcCall:
      status = proxy_grpc_call(
        slot(0), slot(1), slot(2), slot(3), slot(4), slot(5), slot(6), slot(7), slot(8), slot(9), slot(10), out(0),
      );
      kind = RESULT_U32;
      break;
    case HostOp.GrpcStream:
      status = proxy_grpc_stream(slot(0), slot(1), slot(2), slot(3), slot(4), slot(5), slot(6), slot(7), out(0));
      kind = RESULT_U32;
      break;
    case HostOp.GrpcSend: status = proxy_grpc_send(slot(0), slot(1), slot(2), slot(3)); break;
    case HostOp.GrpcCancel: status = proxy_grpc_cancel(slot(0)); break;
    case HostOp.GrpcClose: status = proxy_grpc_close(slot(0)); break;
    case HostOp.GetStatus:
      status = proxy_get_status(out(2), out(0), out(1));
      extra = load<u32>(out(2));
      kind = RESULT_STRING;
      break;
    case HostOp.GetSharedData:
      status = proxy_get_shared_data(slot(0), slot(1), out(0), out(1), out(2));
      extra = load<u32>(out(2));
      kind = RESULT_BYTES;
      break;
    case HostOp.SetSharedData: status = proxy_set_shared_data(slot(0), slot(1), slot(2), slot(3), slot(4)); break;
    case HostOp.RegisterSharedQueue: status = proxy_register_shared_queue(slot(0), slot(1), out(0)); kind = RESULT_U32; break;
    case HostOp.ResolveSharedQueue:
      status = proxy_resolve_shared_queue(slot(0), slot(1), slot(2), slot(3), out(0));
      kind = RESULT_U32;
      break;
    case HostOp.EnqueueSharedQueue: status = proxy_enqueue_shared_queue(slot(0), slot(1), slot(2)); break;
    case HostOp.DequeueSharedQueue:
      status = proxy_dequeue_shared_queue(slot(0), out(0), out(1));
      kind = RESULT_BYTES;
      break;
    case HostOp.DefineMetric: status = proxy_define_metric(<i32>slot(0), slot(1), slot(2), out(0)); kind = RESULT_U32; break;
    case HostOp.IncrementMetric: status = proxy_increment_metric(slot(0), slot64(1)); break;
    case HostOp.RecordMetric: status = proxy_record_metric(slot(0), <u64>slot64(1)); break;
    case HostOp.GetMetric: status = proxy_get_metric(slot(0), out(0)); kind = RESULT_U64; break;
    case HostOp.CallForeignFunction:
      status = proxy_call_foreign_function(slot(0), slot(1), slot(2), slot(3), out(0), out(1));
      kind = RESULT_BYTES;
      break;
    default:
      // An op this glue does not know: BAD_ARGUMENT, as the host answers a bad call.
      status = 2;
  }
  return (<i64>kind << 32) | <i64>(<u32>status);
}

/** The body of `__pwts_host(op, ...args)`. Returns a new JSValue box (the trampoline takes it). */
export function host_call(_name: u32, _nameLen: u32, _self: u32, argc: i32, args: u32): u32 {
  allocateScratch();
  if (argc < 1) return qjs_new_number(-2);
  const op = <i32>qjs_get_float64(load<u32>(args));
  if (op == HostOp.Extra) return qjs_new_number(<f64>extra);
  if (op == HostOp.SetSkippableCallbacks) {
    if (argc < 3) return qjs_new_number(-2);
    skippable = <u32>qjs_get_float64(load<u32>(args + 4));
    skippableWhenNoneAwaiting = <u32>qjs_get_float64(load<u32>(args + 8));
    return qjs_new_number(0);
  }
  if (op == HostOp.SetAwaitingStreams) {
    if (argc < 2) return qjs_new_number(-2);
    awaitingStreams = <u32>qjs_get_float64(load<u32>(args + 4));
    return qjs_new_number(0);
  }
  if (op == HostOp.EngineEntries) return qjs_new_number(<f64>engineEntries);
  if (op == HostOp.TakeRejection) {
    const reason = rejection;
    rejection = 0;
    return reason != 0 ? reason : qjs_get_undefined();
  }
  if (op == HostOp.RandomBytes) {
    if (argc < 2) return qjs_new_number(-2);
    const size = <u32>qjs_get_float64(load<u32>(args + 4));
    // cpp-host serves at most 64 KiB per random_get call (limits.h).
    if (size > 65536) return qjs_new_number(-2);
    const buffer = wasm_malloc(size);
    const failed = random_get(buffer, size) != 0;
    const bytes = failed ? qjs_new_number(-10) : qjs_new_array_buffer(buffer, size);
    wasm_free(buffer);
    return bytes;
  }
  if (op == HostOp.Utf8Encode || op == HostOp.Utf8Decode) {
    if (argc < 2) return qjs_new_number(-2);
    const value = load<u32>(args + 4);
    if (op == HostOp.Utf8Encode) {
      if (qjs_is_string(value) == 0) return qjs_new_number(-2);
      const ptr = qjs_get_string_len(value, outs);
      const buffer = qjs_new_array_buffer(ptr, load<u32>(outs));
      qjs_free_cstring(ptr);
      return buffer;
    }
    if (qjs_is_array_buffer(value) == 0) return qjs_new_number(-2);
    const data = qjs_get_array_buffer(value, outs);
    return qjs_new_string(data, load<u32>(outs));
  }
  fillSlots(argc, args);
  store<u64>(out(0), 0);
  store<u64>(out(1), 0);
  const packed = runOp(op);
  freeCstrings();
  const status = <i32>(<u32>packed);
  const kind = <i32>(packed >> 32);
  if (status != 0) return qjs_new_number(-<f64>status);
  switch (kind) {
    case RESULT_U32: return qjs_new_number(<f64>load<u32>(out(0)));
    case RESULT_U64: return qjs_new_number(<f64>load<u64>(out(0)));
    case RESULT_BYTES:
    case RESULT_STRING:
    case RESULT_PAIRS: {
      const ptr = load<u32>(out(0));
      const len = load<u32>(out(1));
      const value =
        kind == RESULT_BYTES
          ? qjs_new_array_buffer(ptr, len)
          : kind == RESULT_STRING
            ? qjs_new_string(ptr, len)
            : pairsToArray(ptr, len);
      if (ptr != 0) wasm_free(ptr);
      return value;
    }
  }
  return qjs_new_number(0);
}
