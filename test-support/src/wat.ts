/**
 * Compiles WebAssembly text to a binary module for tests, with wabt (the reference toolkit's own parser),
 * so hand-written modules exercise the host exactly as a toolchain's output would.
 */
import wabtInit from "wabt";

const wabt = await wabtInit();

/** Compiles `.wat` source to module bytes; throws with wabt's message (line and column) on a syntax error. */
export function compileWat(source: string, name = "test.wat"): Uint8Array {
  const parsed = wabt.parseWat(name, source, { multi_value: true, bulk_memory: true, mutable_globals: true });
  try {
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({ log: false, write_debug_names: true }).buffer;
  } finally {
    parsed.destroy();
  }
}
