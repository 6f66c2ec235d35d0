/**
 * Compiles a plugin with the AssemblyScript compiler this SDK is made for, in-process, with the
 * options in the SDK's asconfig.json (runtime, and the abort/trace/seed replacements that keep
 * `env.abort` & co. out of the module). Users never pin an AssemblyScript version themselves.
 */

import { fileURLToPath } from "node:url";
import { PwtsError } from "@proxy-wasm-ts/errors";

/** The compiler options every plugin is built with (usable as `asc --config <this>`). */
export const ASCONFIG_PATH = fileURLToPath(new URL("../asconfig.json", import.meta.url));

export interface CompileOptions {
  /** Directory the entry path is relative to (the plugin directory). */
  baseDir: string;
  /** Entry file relative to baseDir, e.g. `assembly/index.ts`. */
  entry: string;
  /** Debug build: names kept, no size optimization (readable stack traces). */
  debug?: boolean;
  /**
   * AssemblyScript runtime; default `minimal` from asconfig.json (the SDK collects garbage at safe
   * points). `incremental` is larger and slower; `stub` never frees memory. For measurements only.
   */
  runtime?: "minimal" | "incremental" | "stub";
}

export interface CompileResult {
  /** The final module. */
  wasm: Uint8Array;
  /** Size straight out of asc, before the wasm-opt pass. */
  compiledSize: number;
}

/** Thrown when the plugin does not compile; `message` holds asc's diagnostics. */
export class CompileError extends PwtsError {
  constructor(message: string) {
    super("PWTS_ERR_COMPILE", message);
  }
}

/** Compiles (then size-optimizes, unless debug) one plugin entry file. */
export async function compilePlugin(options: CompileOptions): Promise<CompileResult> {
  // Loaded on demand: the compiler is large, and callers often only need ASCONFIG_PATH.
  const { default: asc } = await import("assemblyscript/asc");
  let binary: Uint8Array | null = null;
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  const argv = [
    options.entry,
    "--config",
    ASCONFIG_PATH,
    "--outFile",
    "plugin.wasm",
    "--baseDir",
    options.baseDir,
  ];
  if (options.debug) argv.push("--debug", "--optimizeLevel", "0", "--shrinkLevel", "0");
  if (options.runtime) argv.push("--runtime", options.runtime);
  const result = await asc.main(argv, {
    stdout,
    stderr,
    writeFile(filename, contents) {
      if (filename.endsWith(".wasm") && typeof contents !== "string") binary = contents;
    },
  });
  // asc notes when --converge stops early; that is not a problem worth showing.
  const diagnostics = stderr
    .toString()
    .split("\n")
    .filter((line) => !/^Last converge was suboptimal/.test(line.trim()))
    .join("\n")
    .trim();
  const compiled = binary as Uint8Array | null;
  if (result.error || compiled === null) {
    // The asconfig aliases abort/trace/seed to functions the SDK's exports module brings in; without
    // it asc only says "Element 'proxyAbort' not found".
    const hint = diagnostics.includes("'proxyAbort' not found")
      ? `\n${options.entry} must contain: export * from "@proxy-wasm-ts/sdk/assembly/exports";`
      : "";
    throw new CompileError(
      `compiling ${options.entry} failed:\n${diagnostics || String(result.error)}${hint}`,
    );
  }
  if (options.debug) return { wasm: compiled, compiledSize: compiled.byteLength };
  const { optimizeForSize } = await import("./optimize.ts");
  return {
    wasm: optimizeForSize(compiled),
    compiledSize: compiled.byteLength,
  };
}
