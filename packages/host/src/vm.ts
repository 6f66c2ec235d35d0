/**
 * One VM: a single `WebAssembly.Instance` of a plugin module. It owns guest memory access (every pointer
 * bounds-checked), the guest allocator (`malloc`, else `proxy_on_memory_allocate`, as proxy-wasm-cpp-host
 * looks them up), the context registry, and safe calls into the guest: a trap marks the VM failed and
 * never escapes as a JS exception.
 */
// Typings of the WebAssembly global (a `.js` specifier, so the emitted .d.ts points at a file that exists).
import "./webassembly.js";
import type { ByteBuffer } from "./byte-buffer.ts";
import { CallbackTimeoutError } from "./callback-guard.ts";
import type { Context } from "./context.ts";
import type { HeaderMap } from "./header-map.ts";
import { LiveTable } from "./live-table.ts";
import type { ProxyWasmModule } from "./module.ts";
import type { RootContext } from "./root-context.ts";
import { Status } from "./types.ts";

/** Copies out of the host up to this many bytes are a plain loop (see Vm#copyOutRange). */
const SHORT_COPY = 32;

/** Thrown (internally) by WASI `proc_exit` to unwind the guest; never escapes the VM. */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`plugin called proc_exit(${code})`);
  }
}

/** Module callbacks, looked up once. Absent ones are undefined and simply not called. */
export interface GuestExports {
  malloc?: (size: number) => number;
  proxy_on_context_create?: (id: number, parent: number) => void;
  proxy_on_done?: (id: number) => number;
  proxy_on_log?: (id: number) => void;
  proxy_on_delete?: (id: number) => void;
  proxy_on_vm_start?: (id: number, size: number) => number;
  proxy_on_configure?: (id: number, size: number) => number;
  proxy_on_tick?: (id: number) => void;
  proxy_on_new_connection?: (id: number) => number;
  proxy_on_downstream_data?: (id: number, size: number, eos: number) => number;
  proxy_on_downstream_connection_close?: (id: number, peer: number) => void;
  proxy_on_upstream_data?: (id: number, size: number, eos: number) => number;
  proxy_on_upstream_connection_close?: (id: number, peer: number) => void;
  proxy_on_request_headers?: (id: number, n: number, eos: number) => number;
  proxy_on_request_body?: (id: number, size: number, eos: number) => number;
  proxy_on_request_trailers?: (id: number, n: number) => number;
  proxy_on_response_headers?: (id: number, n: number, eos: number) => number;
  proxy_on_response_body?: (id: number, size: number, eos: number) => number;
  proxy_on_response_trailers?: (id: number, n: number) => number;
  proxy_on_http_call_response?: (id: number, token: number, h: number, b: number, t: number) => void;
  proxy_on_grpc_receive_initial_metadata?: (id: number, token: number, n: number) => void;
  proxy_on_grpc_receive?: (id: number, token: number, size: number) => void;
  proxy_on_grpc_receive_trailing_metadata?: (id: number, token: number, n: number) => void;
  proxy_on_grpc_close?: (id: number, token: number, status: number) => void;
  proxy_on_queue_ready?: (id: number, token: number) => void;
  proxy_on_foreign_function?: (id: number, fn: number, size: number) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: guest exports are called with up to five numbers
type GuestFunction = (...args: any[]) => unknown;

/** Returned by `invoke` when the call trapped or the VM had already failed. */
export const CALL_FAILED = -1;

/** Why a VM failed: the trap or error and the callback it happened in. */
export interface VmFailure {
  callback: string;
  error: Error;
}

export class Vm {
  readonly module: ProxyWasmModule;
  readonly vmId: string;
  /**
   * Told of an exception thrown by embedder code the VM ran on a plugin's behalf (deferred work: event
   * handlers, the upstream); the error is not rethrown.
   */
  readonly onEmbedderError: (error: unknown) => void;
  /** Environment variables (WASI `environ_get`), from the VM configuration. */
  readonly environment: ReadonlyArray<readonly [string, string]>;
  /** Root contexts by root_id (plugins with the same root_id share one, as in Envoy). */
  readonly rootContexts = new Map<string, RootContext>();
  /** Data of the callback in progress (callout responses, configuration, foreign-function arguments). */
  readonly callbackBuffers: Array<ByteBuffer | null> = new Array(9).fill(null);
  readonly callbackMaps: Array<HeaderMap | null> = new Array(8).fill(null);
  /** Trace sink when trace mode is on (hostcalls are then wrapped at instantiation, callbacks logged here). */
  trace: ((line: string) => void) | undefined;
  instance!: WebAssembly.Instance;
  memory!: WebAssembly.Memory;
  exports: GuestExports = {};
  /** Live contexts by id (id 0 is the VM context). */
  readonly contexts = new LiveTable<Context>();
  /** The context whose callback is running (the VM context outside callbacks). */
  current!: Context;
  /** `proxy_set_effective_context` target for the running callback; 0 = none. */
  effectiveId = 0;
  failure: VmFailure | null = null;
  /** Work posted during a callback (queue-ready notifications, ...), run when the outermost call returns. */
  private readonly deferred: Array<() => void> = [];
  private depth = 0;
  private nextContextId = 1;
  private u8: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private allocator: ((size: number) => number) | undefined;
  /** Listeners told when the VM fails (plugins apply their failure policy). */
  readonly failureListeners: Array<(failure: VmFailure) => void> = [];
  /**
   * The callback time limit of the module (0 = none), and the running outermost call's deadline (NaN until
   * the call's first check sets it, see `startClock`).
   */
  private readonly timeoutMs: number;
  private deadline = Number.NaN;
  private deadlineCallback = "";

  constructor(
    module: ProxyWasmModule,
    vmId: string,
    environment: ReadonlyArray<readonly [string, string]>,
    onEmbedderError: (error: unknown) => void,
  ) {
    this.module = module;
    this.vmId = vmId;
    this.environment = environment;
    this.onEmbedderError = onEmbedderError;
    this.timeoutMs = module.callbackTimeoutMs;
  }

  /**
   * Starts the time limit's clock when a call enters the guest from outside (not for nested calls). The
   * clock is read at the call's first check, not here: most callbacks end before any check (one per
   * GUARD_BUDGET guest steps), and a clock read (~75 ns) on entry to each, ten or so per request, was a
   * good part of what the limit cost per request. The limit then counts from that first check: what runs
   * before it (under GUARD_BUDGET guest steps, and the hostcalls among them) is not counted, which a
   * runaway loop does not notice.
   */
  private startClock(name: string): void {
    this.deadline = Number.NaN;
    this.deadlineCallback = name;
  }

  /**
   * The guest's periodic check (callback-guard.ts): throws past the deadline, which unwinds the guest to
   * `invoke`, and the VM fails naming the outermost callback. Also throws once the VM has failed.
   */
  checkDeadline(): void {
    if (this.failure !== null) throw new CallbackTimeoutError(this.deadlineCallback, this.timeoutMs);
    const now = performance.now();
    if (Number.isNaN(this.deadline)) this.deadline = now + this.timeoutMs;
    else if (now > this.deadline) throw new CallbackTimeoutError(this.deadlineCallback, this.timeoutMs);
  }

  /** Binds the instance (created by the host with this VM's import object). */
  attach(instance: WebAssembly.Instance): void {
    this.instance = instance;
    const exp = instance.exports as Record<string, unknown>;
    const memory = exp.memory;
    if (!(memory instanceof WebAssembly.Memory))
      throw new Error("the module does not export its memory as `memory`");
    this.memory = memory;
    const fns: Record<string, GuestFunction> = {};
    for (const [name, value] of Object.entries(exp))
      if (typeof value === "function") fns[name] = value as GuestFunction;
    this.exports = fns as GuestExports;
    this.allocator = (fns.malloc ?? fns.proxy_on_memory_allocate) as ((size: number) => number) | undefined;
    this.refresh();
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** True while a guest call is running (answers that arrive then are deferred, as Envoy does). */
  get busy(): boolean {
    return this.depth > 0;
  }

  get hasAllocator(): boolean {
    return this.allocator !== undefined;
  }

  allocateContextId(): number {
    return this.nextContextId++;
  }

  /** The context hostcalls act on: the effective context if set and alive, else the current one. */
  effective(): Context {
    const id = this.effectiveId;
    if (id === 0) return this.current;
    return this.contexts.get(id) ?? this.current;
  }

  /** Marks the VM failed (once) and tells the listeners. */
  fail(callback: string, error: unknown): void {
    if (this.failure) return;
    const err = error instanceof Error ? error : new Error(String(error));
    // A time-out can surface in a nested call (the guest's malloc during a hostcall): name the callback.
    this.failure = { callback: err instanceof CallbackTimeoutError ? err.callback : callback, error: err };
    for (const listener of this.failureListeners) listener(this.failure);
  }

  /**
   * Calls a guest function for `ctx`, with up to five i32 arguments. Returns the result as unsigned, 0 for
   * void functions, or CALL_FAILED when the VM has failed or the call trapped (the VM is then failed).
   */
  invoke(
    ctx: Context,
    name: string,
    fn: GuestFunction | undefined,
    a = 0,
    b = 0,
    c = 0,
    d = 0,
    e = 0,
  ): number {
    if (fn === undefined) return 0;
    if (this.failure !== null) return CALL_FAILED;
    if (this.trace !== undefined)
      this.trace(`[host->vm] ${name}(${[a, b, c, d, e].slice(0, fn.length).join(", ")})`);
    const prevCurrent = this.current;
    const prevEffective = this.effectiveId;
    this.current = ctx;
    this.effectiveId = 0;
    if (this.depth === 0 && this.timeoutMs > 0) this.startClock(name);
    this.depth++;
    let result: number;
    try {
      const r = fn(a, b, c, d, e);
      result = typeof r === "number" ? r >>> 0 : typeof r === "bigint" ? Number(BigInt.asUintN(32, r)) : 0;
    } catch (err) {
      this.fail(name, err);
      result = CALL_FAILED;
    } finally {
      this.current = prevCurrent;
      this.effectiveId = prevEffective;
      this.depth--;
    }
    if (this.depth === 0 && this.deferred.length > 0) this.runDeferred();
    return result;
  }

  /** Runs `work` after the outermost guest call returns (now, if no call is running). */
  post(work: () => void): void {
    this.deferred.push(work);
    if (this.depth === 0) this.runDeferred();
  }

  private runDeferred(): void {
    while (this.deferred.length > 0) {
      const work = this.deferred.shift()!;
      try {
        work();
      } catch (err) {
        // Deferred work calls the embedder (event handlers, upstream); its errors must not stop the rest.
        this.onEmbedderError(err);
      }
    }
  }

  // ---- guest memory -------------------------------------------------------------------------------------

  private refresh(): void {
    const buffer = this.memory.buffer;
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
  }

  /**
   * The current byte view of guest memory. Growing a (non-shared) memory detaches its old buffer, which
   * makes the cached view's length 0: that is the cheap signal to re-create the views (reading
   * `memory.buffer` on every hostcall costs more than the rest of a header read).
   */
  bytes(): Uint8Array {
    if (this.u8.length === 0) this.refresh();
    return this.u8;
  }

  private view(): DataView {
    if (this.u8.length === 0) this.refresh();
    return this.dv;
  }

  /** A view (not a copy) of guest bytes [ptr, ptr+len), or null when out of bounds. */
  read(ptr: number, len: number): Uint8Array | null {
    const p = ptr >>> 0;
    const l = len >>> 0;
    const u8 = this.bytes();
    if (p + l > u8.length) return null;
    return u8.subarray(p, p + l);
  }

  /** True when [ptr, ptr+len) lies inside guest memory. */
  inBounds(ptr: number, len: number): boolean {
    return (ptr >>> 0) + len <= this.bytes().length;
  }

  readU32(ptr: number): number | null {
    const p = ptr >>> 0;
    const dv = this.view();
    return p + 4 <= dv.byteLength ? dv.getUint32(p, true) : null;
  }

  writeU32(ptr: number, value: number): boolean {
    const p = ptr >>> 0;
    const dv = this.view();
    if (p + 4 > dv.byteLength) return false;
    dv.setUint32(p, value, true);
    return true;
  }

  writeU64(ptr: number, value: bigint): boolean {
    const p = ptr >>> 0;
    const dv = this.view();
    if (p + 8 > dv.byteLength) return false;
    dv.setBigUint64(p, BigInt.asUintN(64, value), true);
    return true;
  }

  write(ptr: number, data: Uint8Array): boolean {
    const p = ptr >>> 0;
    const u8 = this.bytes();
    if (p + data.length > u8.length) return false;
    u8.set(data, p);
    return true;
  }

  /**
   * Allocates `size` bytes with the guest allocator. Returns 0 when there is no allocator, the allocator
   * returned 0 or an out-of-bounds block, or it trapped (the VM is then failed).
   */
  allocate(size: number): number {
    const alloc = this.allocator;
    if (alloc === undefined || this.failure !== null) return 0;
    let ptr: number;
    if (this.depth === 0 && this.timeoutMs > 0) this.startClock("malloc");
    this.depth++;
    try {
      ptr = alloc(size) >>> 0;
    } catch (err) {
      this.fail("malloc", err);
      return 0;
    } finally {
      this.depth--;
    }
    if (ptr === 0 || ptr + size > this.bytes().length) return 0;
    return ptr;
  }

  /**
   * The hostcall return convention: copies `data` into a fresh guest allocation and writes its address and
   * size to `ptrPtr` / `sizePtr`. Empty data writes 0/0 without allocating (as cpp-host does).
   */
  copyOut(data: Uint8Array, ptrPtr: number, sizePtr: number): Status {
    return this.copyOutRange(data, 0, data.length, ptrPtr, sizePtr);
  }

  /**
   * `copyOut` of `data[start, end)` (in range), without a subarray view made for it: a view costs more
   * than copying the few bytes most hostcalls return (a body chunk, a header value).
   */
  copyOutRange(data: Uint8Array, start: number, end: number, ptrPtr: number, sizePtr: number): Status {
    const pp = ptrPtr >>> 0;
    const sp = sizePtr >>> 0;
    const limit = this.bytes().length;
    // Check the out-pointers first so a bad one does not leak a guest allocation.
    if (pp + 4 > limit || sp + 4 > limit) return Status.InvalidMemoryAccess;
    const n = end - start;
    let ptr = 0;
    if (n > 0) {
      ptr = this.allocate(n);
      if (ptr === 0) return Status.InvalidMemoryAccess;
      const memory = this.bytes();
      // A short copy by hand: TypedArray#set's call costs more than the loop below SHORT_COPY bytes.
      if (n <= SHORT_COPY) for (let i = 0; i < n; i++) memory[ptr + i] = data[start + i]!;
      else memory.set(start === 0 && end === data.length ? data : data.subarray(start, end), ptr);
    }
    // Memory only grows, so the out-pointers are still in bounds after the allocation.
    const dv = this.view();
    dv.setUint32(pp, ptr, true);
    dv.setUint32(sp, n, true);
    return Status.Ok;
  }
}
