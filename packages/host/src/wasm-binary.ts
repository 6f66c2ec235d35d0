/**
 * Reading the few parts of a WebAssembly binary the host needs and `WebAssembly.Module` does not expose:
 * the section layout (to cap the memory section) and the signatures of function imports (Node 20's
 * `WebAssembly.Module.imports()` gives names and kinds only, while Envoy refuses a module whose import
 * signature differs from the host function's). Hand-written because only two sections are read, and no npm
 * package reads one section without decoding the whole module.
 */
// Typings of the WebAssembly global (a `.js` specifier, so the emitted .d.ts points at a file that exists).
import "./webassembly.js";
import { PwtsError } from "@proxy-wasm-ts/errors";

/** A malformed binary: the message says where reading stopped. */
export class WasmBinaryError extends PwtsError {
  constructor(message: string, options?: ErrorOptions) {
    super("PWTS_ERR_WASM_BINARY", message, options);
  }
}

/** A function signature as written in a module's type section (value types as in the text format). */
export interface Signature {
  params: string[];
  results: string[];
}

const VALUE_TYPES: Record<number, string> = { 127: "i32", 126: "i64", 125: "f32", 124: "f64", 123: "v128" };

/** A cursor over `bytes[pos, end)` reading the binary format's primitives. */
export class WasmReader {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new WasmBinaryError("truncated section");
    return this.bytes[this.pos++]!;
  }
  /** An unsigned LEB128 number (up to 35 bits, as u32 encodings may be padded to 5 bytes). */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new WasmBinaryError("LEB128 number too long");
  }
  name(): string {
    const length = this.u32();
    if (this.pos + length > this.end) throw new WasmBinaryError("name runs past its section");
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
  valueType(): string {
    const code = this.byte();
    return VALUE_TYPES[code] ?? `type 0x${code.toString(16)}`;
  }
  skipLimits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 0x01) this.u32();
  }
}

/** One section: its id, where its header starts, and its body `[start, end)`. */
export interface Section {
  id: number;
  headerStart: number;
  start: number;
  end: number;
}

/** The module's sections in order. Throws WasmBinaryError on a bad magic number or a section past the end. */
export function* sections(bytes: Uint8Array): Generator<Section> {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmBinaryError("bad magic number");
  }
  const top = new WasmReader(bytes, 8, bytes.length);
  while (top.pos < bytes.length) {
    const headerStart = top.pos;
    const id = top.byte();
    const size = top.u32();
    const start = top.pos;
    const end = start + size;
    if (end > bytes.length) throw new WasmBinaryError("section past the end");
    yield { id, headerStart, start, end };
    top.pos = end;
  }
}

const TYPE_SECTION = 1;
const IMPORT_SECTION = 2;

/** Signatures of the module's function imports, keyed `module.name`. */
export function readImportSignatures(bytes: Uint8Array): Map<string, Signature> {
  const types: Signature[] = [];
  const signatures = new Map<string, Signature>();
  for (const { id, start, end } of sections(bytes)) {
    const section = new WasmReader(bytes, start, end);
    if (id === TYPE_SECTION) {
      for (let count = section.u32(); count > 0; count--) {
        if (section.byte() !== 0x60) throw new WasmBinaryError("type section holds a non-function type");
        const params = Array.from({ length: section.u32() }, () => section.valueType());
        const results = Array.from({ length: section.u32() }, () => section.valueType());
        types.push({ params, results });
      }
    } else if (id === IMPORT_SECTION) {
      for (let count = section.u32(); count > 0; count--) {
        const key = `${section.name()}.${section.name()}`;
        const kind = section.byte();
        if (kind === 0x00) {
          const type = types[section.u32()];
          if (type) signatures.set(key, type);
        } else if (kind === 0x01) {
          section.byte(); // table: element type, then limits
          section.skipLimits();
        } else if (kind === 0x02) {
          section.skipLimits();
        } else if (kind === 0x03) {
          section.valueType(); // global: value type, then mutability
          section.byte();
        } else {
          section.byte(); // tag: attribute, then type index
          section.u32();
        }
      }
      return signatures; // the import section is the last one needed
    }
  }
  return signatures;
}

/** `(i32, i32) -> (i32)`, the form load errors and `pwts inspect` print. */
export function formatSignature(signature: {
  params: readonly string[];
  results: readonly string[];
}): string {
  return `(${signature.params.join(", ")}) -> (${signature.results.join(", ")})`;
}

/** True when both signatures have the same parameter and result types, in order. */
export function sameSignature(
  a: { params: readonly string[]; results: readonly string[] },
  b: { params: readonly string[]; results: readonly string[] },
): boolean {
  return a.params.join() === b.params.join() && a.results.join() === b.results.join();
}
