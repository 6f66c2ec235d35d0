/**
 * Loading a plugin module: compile from bytes or a path, detect the ABI version from its marker export,
 * and check every import against the import table, so an unknown or mis-typed import fails the load with its
 * name (as Envoy fails to link it) instead of at call time.
 */
// Typings of the WebAssembly global (a `.js` specifier, so the emitted .d.ts points at a file that exists).
import "./webassembly.js";
import { readFile } from "node:fs/promises";
import { PwtsError } from "@proxy-wasm-ts/errors";
import { ABI_MARKERS, findImport, type ImportSpec } from "./abi/table.ts";
import { addCallbackGuard, GUARD_IMPORT_MODULE } from "./callback-guard.ts";
import type { AbiVersion } from "./types.ts";
import {
  formatSignature,
  readImportSignatures,
  type Signature,
  sameSignature,
  sections,
  WasmBinaryError,
  WasmReader,
} from "./wasm-binary.ts";

/** A module that cannot load in Envoy (or here): the message names the cause. */
export class ModuleLoadError extends PwtsError {
  constructor(message: string, options?: ErrorOptions) {
    super("PWTS_ERR_MODULE_LOAD", message, options);
  }
}

/** A compiled plugin module, ready to be instantiated into VMs. */
export class ProxyWasmModule {
  private constructor(
    /** The compiled module (with its memory maximum capped, see `load`). */
    readonly module: WebAssembly.Module,
    readonly abiVersion: AbiVersion,
    /** Size of the original `.wasm` bytes. */
    readonly size: number,
    readonly imports: readonly WebAssembly.ModuleImportDescriptor[],
    readonly exports: readonly WebAssembly.ModuleExportDescriptor[],
    /** The specs of the host functions this module imports. */
    readonly importSpecs: readonly ImportSpec[],
    /** The callback time limit compiled in (see callback-guard.ts); 0 = none. */
    readonly callbackTimeoutMs: number,
  ) {}

  /** Names of the functions the module exports. */
  get exportedFunctions(): Set<string> {
    return new Set(this.exports.filter((e) => e.kind === "function").map((e) => e.name));
  }

  /**
   * Loads a module from bytes or a file path. `memoryLimitBytes` caps linear-memory growth (default 1 GiB,
   * cpp-host's limit): the module's declared maximum is lowered to it, so `memory.grow` beyond fails.
   * `callbackTimeoutMs` (> 0) compiles in the callback time limit: a callback running longer is stopped
   * and its VM failed (see callback-guard.ts); the checks below still read the original bytes.
   */
  static async load(
    source: Uint8Array | string,
    options: { memoryLimitBytes?: number; callbackTimeoutMs?: number } = {},
  ): Promise<ProxyWasmModule> {
    let bytes: Uint8Array;
    if (typeof source === "string") {
      try {
        bytes = new Uint8Array(await readFile(source));
      } catch (err) {
        throw new ModuleLoadError(`cannot read plugin module ${source}: ${(err as Error).message}`);
      }
    } else {
      bytes = source;
    }
    const limitPages = Math.floor((options.memoryLimitBytes ?? 1 << 30) / 65536);
    const timeoutMs = options.callbackTimeoutMs ?? 0;
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0))
      throw new ModuleLoadError(`callbackTimeoutMs must be a number of milliseconds >= 0, got ${timeoutMs}`);
    let compiled: WebAssembly.Module;
    try {
      // The original is compiled first so that a broken module fails with V8's message, not binaryen's.
      compiled = await WebAssembly.compile(capMemory(bytes, limitPages));
      if (timeoutMs > 0)
        compiled = await WebAssembly.compile(capMemory(await addCallbackGuard(bytes), limitPages));
    } catch (err) {
      if (err instanceof ModuleLoadError) throw err;
      throw new ModuleLoadError(`not a valid WebAssembly module: ${(err as Error).message}`);
    }
    const exports = WebAssembly.Module.exports(compiled);
    const exportNames = new Set(exports.map((e) => e.name));
    const marker = ABI_MARKERS.find(([name]) => exportNames.has(name));
    if (!marker) {
      throw new ModuleLoadError(
        "missing or unknown Proxy-Wasm ABI version: the module exports none of " +
          ABI_MARKERS.map(([name]) => name).join(", "),
      );
    }
    const abiVersion = marker[1];
    // The guard's own import is the host's, not the plugin's: checked against the original module.
    const imports = WebAssembly.Module.imports(compiled).filter(
      (imp) => timeoutMs === 0 || imp.module !== GUARD_IMPORT_MODULE,
    );
    let signatures: Map<string, Signature>;
    try {
      signatures = readImportSignatures(bytes);
    } catch (err) {
      if (!(err instanceof WasmBinaryError)) throw err;
      throw new ModuleLoadError(`cannot read the module's import signatures: ${err.message}`);
    }
    for (const where of signatures.keys())
      if (where.startsWith(`${GUARD_IMPORT_MODULE}.`))
        throw new ModuleLoadError(`unknown import ${where}: the host (and Envoy) do not provide it`);
    const specs: ImportSpec[] = [];
    for (const imp of imports) {
      const where = `${imp.module}.${imp.name}`;
      if (imp.kind !== "function") {
        throw new ModuleLoadError(
          `unsupported import ${where} (${imp.kind}): the host provides only functions`,
        );
      }
      const spec = findImport(imp.module, imp.name);
      if (!spec) throw new ModuleLoadError(`unknown import ${where}: the host (and Envoy) do not provide it`);
      if (!spec.abi.includes(abiVersion)) {
        throw new ModuleLoadError(
          `import ${where} is not provided to ABI ${abiVersion} modules (only to ${spec.abi.join(", ")})`,
        );
      }
      // V8 itself would accept any signature for a JS import; cpp-host compares each one with the host
      // function's and refuses the module, so a mis-declared import never runs with shifted arguments.
      const declared = signatures.get(where);
      if (declared && !sameSignature(declared, spec)) {
        throw new ModuleLoadError(
          `import ${where} has the wrong signature: the module declares ${formatSignature(declared)}, ` +
            `the host (and Envoy) provide ${formatSignature(spec)} (Envoy: "import type mismatch")`,
        );
      }
      specs.push(spec);
    }
    if (!exportNames.has("memory"))
      throw new ModuleLoadError("the module does not export its memory as `memory`");
    if (!exportNames.has("malloc") && !exportNames.has("proxy_on_memory_allocate")) {
      throw new ModuleLoadError(
        "the module is missing malloc function (exports neither malloc nor proxy_on_memory_allocate)",
      );
    }
    return new ProxyWasmModule(compiled, abiVersion, bytes.length, imports, exports, specs, timeoutMs);
  }
}

// ---- memory cap: rewrite the memory section's limits -------------------------------------------------------

function writeLeb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

const MEMORY_SECTION = 5;

/**
 * Returns the module bytes with every defined 32-bit memory's maximum set to at most `limitPages`.
 * Hand-written because no npm package edits one section of a binary without re-encoding the whole module.
 */
export function capMemory(bytes: Uint8Array, limitPages: number): Uint8Array {
  try {
    for (const { id, headerStart, start, end } of sections(bytes)) {
      if (id !== MEMORY_SECTION) continue;
      const memories = new WasmReader(bytes, start, end);
      const count = memories.u32();
      const body: number[] = writeLeb(count);
      for (let i = 0; i < count; i++) {
        const flags = memories.byte();
        if (flags & ~0x01) return bytes; // shared or 64-bit memories: leave untouched
        const min = memories.u32();
        const max = flags & 0x01 ? Math.min(memories.u32(), limitPages) : limitPages;
        if (min > limitPages) {
          throw new ModuleLoadError(
            `the module needs ${min} memory pages at start, over the memory limit of ${limitPages} pages`,
          );
        }
        body.push(0x01, ...writeLeb(min), ...writeLeb(max));
      }
      const section = [MEMORY_SECTION, ...writeLeb(body.length), ...body];
      const out = new Uint8Array(headerStart + section.length + (bytes.length - end));
      out.set(bytes.subarray(0, headerStart), 0);
      out.set(section, headerStart);
      out.set(bytes.subarray(end), headerStart + section.length);
      return out;
    }
  } catch (err) {
    if (err instanceof WasmBinaryError) {
      throw new ModuleLoadError(`not a valid WebAssembly module: ${err.message}`);
    }
    throw err;
  }
  return bytes;
}
