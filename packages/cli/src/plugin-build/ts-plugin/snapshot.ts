/**
 * Pre-initialization: start the engine at build time, evaluate the plugin's bundle, hand its dispatcher
 * to the glue, then write the resulting state into the module. The linear memory becomes the module's
 * data segments and every mutable global its initial value, so a VM starts with the bundle already
 * evaluated and parses no JavaScript (Wizer's idea, done with binaryen on the memory quickjs-wasi
 * snapshots: its whole VM state lives in linear memory plus `__stack_pointer`).
 *
 * The exports only the build needs (QuickJS's C API, `_initialize`, the glue's state) are removed, and
 * binaryen drops the functions nothing reaches any more.
 */
import { randomFillSync } from "node:crypto";
import { PwtsError } from "@proxy-wasm-ts/errors";
import binaryen from "binaryen";

/** The global the guest runtime defines (`definePlugin`) and the glue calls for every callback. */
const DISPATCHER_GLOBAL = "__pwts_dispatch";
/** The one host function the guest runtime calls hostcalls through. */
const HOST_FUNCTION_GLOBAL = "__pwts_host";
/** `proxy_status_t` UNIMPLEMENTED: hostcalls have no host at build time. */
const UNIMPLEMENTED = 12;
const PAGE = 65536;
/** quickjs-wasi CompileFlags.STRIP_SOURCE: bytecode without the functions' source text. */
const STRIP_SOURCE = 16;
/** Zero runs shorter than this stay inside a data segment (a segment header costs about 8 bytes). */
const MIN_ZERO_GAP = 32;

/** Thrown when the bundle fails while it is evaluated at build time; the message holds the JS stack. */
export class BundleEvaluationError extends PwtsError {
  constructor(message: string) {
    super("PWTS_ERR_COMPILE", message);
  }
}

interface EngineExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  qjs_init(): number;
  qjs_compile(
    code: number,
    len: number,
    filename: number,
    evalFlags: number,
    writeFlags: number,
    lenOut: number,
  ): number;
  qjs_eval_bytecode(ptr: number, len: number): number;
  qjs_get_global(): number;
  qjs_get_prop_string(obj: number, name: number): number;
  qjs_set_prop_string(obj: number, name: number, value: number): number;
  qjs_new_host_function(name: number, len: number, flags: number): number;
  qjs_is_exception(value: number): number;
  qjs_is_function(value: number): number;
  qjs_get_exception(): number;
  qjs_get_string_len(value: number, lenOut: number): number;
  qjs_free_cstring(ptr: number): void;
  qjs_free_value(value: number): void;
  qjs_is_job_pending(): number;
  qjs_execute_pending_job(): number;
  qjs_run_gc(): void;
  qjs_set_promise_rejection_handler(enabled: number): void;
  wasm_malloc(size: number): number;
  wasm_free(ptr: number): void;
  pwts_set_dispatcher(fn: number): void;
  [name: string]: unknown;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Imports for the build-time run: WASI as far as QuickJS needs it, hostcalls unavailable (logs kept). */
function buildTimeImports(module: WebAssembly.Module, memory: () => WebAssembly.Memory, logs: string[]) {
  const env: Record<string, (...args: number[]) => number> = {};
  const wasi: Record<string, (...args: never[]) => number> = {};
  const read = (ptr: number, len: number) =>
    utf8Decoder.decode(new Uint8Array(memory().buffer, ptr >>> 0, len >>> 0));
  for (const entry of WebAssembly.Module.imports(module)) {
    if (entry.module === "env") {
      env[entry.name] =
        entry.name === "proxy_log"
          ? (_level: number, ptr: number, len: number) => {
              logs.push(read(ptr, len));
              return 0;
            }
          : () => UNIMPLEMENTED;
    }
  }
  wasi.clock_time_get = (_id: never, _precision: never, out: never) => {
    new DataView(memory().buffer).setBigUint64(out, BigInt(Date.now()) * 1_000_000n, true);
    return 0;
  };
  wasi.random_get = (ptr: never, len: never) => {
    randomFillSync(new Uint8Array(memory().buffer, ptr, len));
    return 0;
  };
  wasi.fd_write = (fd: never, iovs: never, count: never, written: never) => {
    const view = new DataView(memory().buffer);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const ptr = view.getUint32(iovs + i * 8, true);
      const len = view.getUint32(iovs + i * 8 + 4, true);
      logs.push(read(ptr, len).replace(/\n$/, ""));
      total += len;
    }
    view.setUint32(written, total, true);
    return fd === 1 || fd === 2 ? 0 : 8;
  };
  wasi.fd_close = () => 0;
  wasi.fd_seek = () => 0;
  wasi.fd_fdstat_get = () => 8;
  return { env, wasi_snapshot_preview1: wasi };
}

/** A NUL-terminated copy of `text` in the engine's heap (caller frees). */
function cString(engine: EngineExports, text: string): { ptr: number; len: number } {
  const bytes = utf8.encode(text);
  const ptr = engine.wasm_malloc(bytes.length + 1);
  const view = new Uint8Array(engine.memory.buffer, ptr, bytes.length + 1);
  view.set(bytes);
  view[bytes.length] = 0;
  return { ptr, len: bytes.length };
}

function readJsString(engine: EngineExports, value: number): string {
  const lenOut = engine.wasm_malloc(4);
  try {
    const ptr = engine.qjs_get_string_len(value, lenOut);
    if (ptr === 0) return "";
    const len = new DataView(engine.memory.buffer).getUint32(lenOut, true);
    const text = utf8Decoder.decode(new Uint8Array(engine.memory.buffer, ptr, len));
    engine.qjs_free_cstring(ptr);
    return text;
  } finally {
    engine.wasm_free(lenOut);
  }
}

/** The pending exception as "message\nstack". */
function takeException(engine: EngineExports): string {
  const error = engine.qjs_get_exception();
  const parts: string[] = [readJsString(engine, error)];
  const name = cString(engine, "stack");
  const stack = engine.qjs_get_prop_string(error, name.ptr);
  engine.wasm_free(name.ptr);
  const stackText = readJsString(engine, stack);
  if (stackText && stackText !== "undefined") parts.push(stackText.replace(/\n$/, ""));
  engine.qjs_free_value(stack);
  engine.qjs_free_value(error);
  return parts.join("\n");
}

function getGlobal(engine: EngineExports, name: string): number {
  const global = engine.qjs_get_global();
  const key = cString(engine, name);
  const value = engine.qjs_get_prop_string(global, key.ptr);
  engine.wasm_free(key.ptr);
  engine.qjs_free_value(global);
  return value;
}

interface EngineState {
  memory: Uint8Array;
  /** Export name -> value of every mutable exported global. */
  globals: Map<string, number | bigint>;
}

/** An engine instance for the build, started (WASI reactor initialized, QuickJS runtime and context created). */
async function startEngine(module: WebAssembly.Module, logs: string[]): Promise<EngineExports> {
  let memory: WebAssembly.Memory | undefined;
  const imports = buildTimeImports(module, () => memory as WebAssembly.Memory, logs);
  const instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
  const engine = instance.exports as unknown as EngineExports;
  memory = engine.memory;
  engine._initialize();
  if (engine.qjs_init() !== 0) throw new PwtsError("PWTS_ERR_COMPILE", "the JavaScript engine did not start");
  return engine;
}

/**
 * Compiles the bundle to QuickJS bytecode without its source text (line and column information stay, for
 * stack traces). It runs in an engine of its own, so the parser's garbage never reaches the snapshot.
 */
async function compileBytecode(
  module: WebAssembly.Module,
  code: string,
  filename: string,
): Promise<Uint8Array> {
  const engine = await startEngine(module, []);
  const source = cString(engine, code);
  const file = cString(engine, filename);
  const lenOut = engine.wasm_malloc(4);
  const bytecode = engine.qjs_compile(source.ptr, source.len, file.ptr, 0, STRIP_SOURCE, lenOut);
  if (bytecode === 0) throw new BundleEvaluationError(takeException(engine));
  const len = new DataView(engine.memory.buffer).getUint32(lenOut, true);
  return new Uint8Array(engine.memory.buffer, bytecode, len).slice();
}

/** Runs the bundle in the engine and returns the state to bake in; `logs` gets what it logged. */
async function evaluate(engineWasm: Uint8Array, code: string, filename: string, logs: string[]) {
  const module = new WebAssembly.Module(engineWasm);
  const bytecode = await compileBytecode(module, code, filename);
  const engine = await startEngine(module, logs);
  // Unhandled rejections reach the glue's host_promise_rejection (then the guest, which fails the stream).
  engine.qjs_set_promise_rejection_handler(1);

  const hostName = cString(engine, HOST_FUNCTION_GLOBAL);
  const host = engine.qjs_new_host_function(hostName.ptr, hostName.len, 0);
  const global = engine.qjs_get_global();
  engine.qjs_set_prop_string(global, hostName.ptr, host);
  engine.wasm_free(hostName.ptr);
  engine.qjs_free_value(host);
  engine.qjs_free_value(global);

  // The bytecode goes above the heap, in pages of its own that are zeroed afterwards: copied into the
  // heap, its freed bytes would stay in the snapshot.
  const at = engine.memory.grow(Math.ceil(bytecode.length / PAGE)) * PAGE;
  new Uint8Array(engine.memory.buffer).set(bytecode, at);
  const result = engine.qjs_eval_bytecode(at, bytecode.length);
  new Uint8Array(engine.memory.buffer).fill(0, at, at + bytecode.length);
  if (engine.qjs_is_exception(result)) throw new BundleEvaluationError(takeException(engine));
  engine.qjs_free_value(result);
  while (engine.qjs_is_job_pending()) {
    if (engine.qjs_execute_pending_job() < 0) throw new BundleEvaluationError(takeException(engine));
  }

  const dispatcher = getGlobal(engine, DISPATCHER_GLOBAL);
  if (!engine.qjs_is_function(dispatcher)) {
    throw new PwtsError(
      "PWTS_ERR_COMPILE",
      "the plugin defines no handlers: its entry file must call definePlugin() from @proxy-wasm-ts/js",
    );
  }
  engine.pwts_set_dispatcher(dispatcher);
  engine.qjs_free_value(dispatcher);
  engine.qjs_run_gc();

  const globals = new Map<string, number | bigint>();
  for (const [name, value] of Object.entries(engine)) {
    // WebAssembly.Global (missing from this project's lib typings): an object with a `value`.
    if (
      typeof value === "object" &&
      value !== null &&
      "value" in value &&
      !(value instanceof WebAssembly.Memory)
    ) {
      globals.set(name, (value as { value: number | bigint }).value);
    }
  }
  const state: EngineState = { memory: new Uint8Array(engine.memory.buffer).slice(), globals };
  // The stack is below __stack_pointer (wasi-sdk lays it out first) and is dead between calls.
  const stackTop = Number(globals.get("__stack_pointer") ?? 0);
  state.memory.fill(0, 0, stackTop);
  return state;
}

/** Non-zero stretches of memory as data segments. */
function dataSegments(module: binaryen.Module, memory: Uint8Array): binaryen.MemorySegment[] {
  const segments: binaryen.MemorySegment[] = [];
  let end = memory.length;
  while (end > 0 && memory[end - 1] === 0) end--;
  let i = 0;
  while (i < end) {
    while (i < end && memory[i] === 0) i++;
    if (i >= end) break;
    const start = i;
    let zeros = 0;
    let last = i;
    for (; i < end; i++) {
      if (memory[i] === 0) {
        zeros++;
        if (zeros >= MIN_ZERO_GAP) break;
      } else {
        zeros = 0;
        last = i;
      }
    }
    segments.push({ offset: module.i32.const(start), data: memory.slice(start, last + 1), passive: false });
    i = last + 1;
  }
  return segments;
}

/** Exports a Proxy-Wasm module keeps. */
function isPluginExport(name: string): boolean {
  return name === "memory" || name.startsWith("proxy_on_") || name === "proxy_abi_version_0_2_1";
}

/** Writes the evaluated state into the engine module and trims what only the build used. */
function bake(engineWasm: Uint8Array, state: EngineState): Uint8Array {
  const module = binaryen.readBinary(engineWasm);
  try {
    module.setFeatures(
      binaryen.Features.BulkMemory |
        binaryen.Features.BulkMemoryOpt |
        binaryen.Features.CallIndirectOverlong |
        binaryen.Features.SignExt |
        binaryen.Features.MutableGlobals |
        binaryen.Features.NontrappingFPToInt,
    );
    const exportsByName = new Map<string, binaryen.ExportInfo>();
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      exportsByName.set(info.name, info);
    }
    for (const [exportName, value] of state.globals) {
      const info = exportsByName.get(exportName);
      if (!info) continue;
      const global = binaryen.getGlobalInfo(module.getGlobal(info.value));
      module.removeGlobal(info.value);
      const init =
        global.type === binaryen.i64
          ? (module.i64.const as unknown as (value: bigint) => number)(BigInt(value))
          : module.i32.const(Number(value));
      module.addGlobal(info.value, global.type, true, init);
    }
    const pages = state.memory.length / PAGE;
    const memoryInfo = module.getMemoryInfo(exportsByName.get("memory")?.value ?? "0");
    module.setMemory(
      pages,
      memoryInfo.max ?? 65536,
      null,
      dataSegments(module, state.memory),
      false,
      false,
      exportsByName.get("memory")?.value,
    );
    for (const name of exportsByName.keys()) {
      if (!isPluginExport(name)) module.removeExport(name);
    }
    module.runPasses(["remove-unused-module-elements"]);
    if (!module.validate())
      throw new PwtsError("PWTS_ERR_COMPILE", "the snapshotted module does not validate");
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

export interface SnapshotResult {
  wasm: Uint8Array;
  /** What the bundle logged while it was evaluated at build time. */
  logs: string[];
}

/** Evaluates `code` (the bundled plugin, named `filename` in stack traces) and returns the snapshotted module. */
export async function snapshotPlugin(
  engineWasm: Uint8Array,
  code: string,
  filename: string,
): Promise<SnapshotResult> {
  const logs: string[] = [];
  const state = await evaluate(engineWasm, code, filename, logs);
  return { wasm: bake(engineWasm, state), logs };
}
