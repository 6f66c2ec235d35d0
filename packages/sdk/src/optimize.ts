/**
 * The last step of a size build (`compilePlugin({ optimize: "size" })`): a wasm-opt pass (binaryen's
 * optimizer from the `binaryen` npm package) after asc's own, which shrinks its output by a few
 * more percent. Speed builds skip it.
 */
import binaryen from "binaryen";

// The features AssemblyScript 0.28 emits by default; V8 (Envoy's default runtime) supports them all.
// Fixing them keeps the optimizer from introducing anything newer.
const FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.SignExt |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt;

/** Optimizes for size (like `wasm-opt -Oz`); returns the input when the result is not smaller. */
export function optimizeForSize(input: Uint8Array): Uint8Array {
  const module = binaryen.readBinary(input);
  try {
    module.setFeatures(FEATURES);
    binaryen.setOptimizeLevel(2);
    binaryen.setShrinkLevel(2);
    module.optimize();
    if (!module.validate()) return input;
    const output = module.emitBinary();
    return output.byteLength < input.byteLength ? output : input;
  } finally {
    module.dispose();
  }
}
