/**
 * A test module generated from the import table: it imports every host function of an ABI version and
 * exports a trampoline `call:<module>.<name>` for each, so a test can drive any hostcall through real Wasm
 * (i32/i64 conversions included) with chosen pointers. It has a bump allocator (`malloc`), two pages of
 * memory, a scratch area at 16..8191 for test inputs, and HTTP callbacks that return `hold` (Pause by default).
 */

import { compileWat } from "@proxy-wasm-ts/test-support/wat";
import { IMPORT_TABLE, type ImportSpec } from "../../src/abi/table.ts";
import type { Context } from "../../src/context.ts";
import { type HarnessOptions, type PluginHarness, startPlugin } from "../../src/testing/index.ts";
import type { AbiVersion } from "../../src/types.ts";
import type { Vm } from "../../src/vm.ts";

export const HEAP_START = 8192;

function sig(spec: ImportSpec): string {
  const params = spec.params.length ? `(param ${spec.params.join(" ")})` : "";
  const results = spec.results.length ? `(result ${spec.results.join(" ")})` : "";
  return `${params} ${results}`;
}

/** WAT text of the trampoline module. `callbacks` is extra WAT placed inside the module. */
export function abiModuleWat(abi: AbiVersion = "0.2.1", callbacks = ""): string {
  const specs = IMPORT_TABLE.filter((s) => s.abi.includes(abi) && s.module !== "wasi_unstable");
  const imports = specs
    .map((s, i) => `(import "${s.module}" "${s.name}" (func $f${i} ${sig(s)}))`)
    .join("\n  ");
  const trampolines = specs
    .map((s, i) => {
      const gets = s.params.map((_, j) => `local.get ${j}`).join(" ");
      return `(func (export "call:${s.module}.${s.name}") ${sig(s)} ${gets} call $f${i})`;
    })
    .join("\n  ");
  const marker = `proxy_abi_version_${abi.replaceAll(".", "_")}`;
  return `(module
  ${imports}
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const ${HEAP_START}))
  (global $mallocs (mut i32) (i32.const 0))
  (func (export "malloc") (param $size i32) (result i32)
    (local $ptr i32)
    (global.set $mallocs (i32.add (global.get $mallocs) (i32.const 1)))
    (local.set $ptr (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $ptr) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (block $ok
      (br_if $ok (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
      (drop (memory.grow (i32.add (i32.div_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 65536)) (i32.const 1)))))
    (local.get $ptr))
  (func (export "malloc_count") (result i32) (global.get $mallocs))
  ;; HTTP callbacks return $hold (default 1 = Pause), so a stream's maps stay visible to hostcalls, as while
  ;; a plugin holds a phase.
  (global $hold (export "hold") (mut i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (global.get $hold))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (global.get $hold))
  (func (export "proxy_on_request_trailers") (param i32 i32) (result i32) (global.get $hold))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (global.get $hold))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (global.get $hold))
  (func (export "proxy_on_response_trailers") (param i32 i32) (result i32) (global.get $hold))
  (func (export "${marker}"))
  ${trampolines}
  ${callbacks}
)`;
}

/** A started trampoline module with helpers to write inputs and read outputs in guest memory. */
export class AbiHarness {
  readonly harness: PluginHarness;
  readonly vm: Vm;
  private scratch = 16;

  constructor(harness: PluginHarness) {
    this.harness = harness;
    this.vm = harness.plugin.vm;
  }

  private get exports(): Record<string, unknown> {
    return this.vm.instance.exports as Record<string, unknown>;
  }

  /** Calls hostcall `name` (e.g. "proxy_log" or "wasi_snapshot_preview1.fd_write") through Wasm. */
  call(name: string, ...args: Array<number | bigint>): number {
    const full = name.includes(".") ? name : `env.${name}`;
    const fn = this.exports[`call:${full}`];
    if (typeof fn !== "function") throw new Error(`no trampoline for ${full}`);
    const result = fn(...args);
    return typeof result === "number" ? result : -1;
  }

  /** Runs `fn` with `ctx` as the current context (as if inside one of its callbacks). */
  inContext<T>(ctx: Context, fn: () => T): T {
    const prev = this.vm.current;
    const prevEffective = this.vm.effectiveId;
    this.vm.current = ctx;
    this.vm.effectiveId = 0;
    try {
      return fn();
    } finally {
      this.vm.current = prev;
      this.vm.effectiveId = prevEffective;
    }
  }

  /** Copies bytes (or UTF-8 text) into the scratch area; returns [ptr, len]. */
  put(data: Uint8Array | string): [number, number] {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const ptr = this.scratch;
    this.scratch += (bytes.length + 7) & ~7;
    if (this.scratch >= HEAP_START) throw new Error("test scratch area exhausted");
    this.vm.write(ptr, bytes);
    return [ptr, bytes.length];
  }

  /** Reserves `size` zeroed scratch bytes (out-parameters); returns the pointer. */
  out(size = 8): number {
    return this.put(new Uint8Array(size))[0];
  }

  u32(ptr: number): number {
    return this.vm.readU32(ptr)!;
  }

  u64(ptr: number): bigint {
    const b = this.vm.read(ptr, 8)!;
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  bytes(ptr: number, len: number): Uint8Array {
    return this.vm.read(ptr, len)!.slice();
  }

  /** Reads the (pointer, size) pair a hostcall returned through `ptrPtr` / `sizePtr`. */
  returned(ptrPtr: number, sizePtr: number): Uint8Array {
    return this.bytes(this.u32(ptrPtr), this.u32(sizePtr));
  }

  text(ptrPtr: number, sizePtr: number): string {
    return new TextDecoder().decode(this.returned(ptrPtr, sizePtr));
  }

  /** A pointer just past the end of guest memory (every access through it is out of bounds). */
  get badPointer(): number {
    return this.vm.bytes().length;
  }

  /** What the module's HTTP callbacks return from now on (1 = Pause, the default; 0 = Continue). */
  hold(action: number): void {
    (this.exports.hold as { value: number }).value = action;
  }

  mallocCount(): number {
    return (this.exports.malloc_count as () => number)();
  }
}

/** Starts the trampoline module as a plugin in a test host. */
export async function startAbiHarness(
  options: HarnessOptions & { abi?: AbiVersion; callbacks?: string } = {},
): Promise<AbiHarness> {
  const { abi, callbacks, ...rest } = options;
  const harness = await startPlugin(compileWat(abiModuleWat(abi, callbacks)), rest);
  return new AbiHarness(harness);
}
