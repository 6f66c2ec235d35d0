/**
 * Compiles a plugin with the AssemblyScript compiler this SDK is made for, in-process, with the
 * options in the SDK's asconfig.json (runtime, and the abort/trace/seed replacements that keep
 * `env.abort` & co. out of the module). Users never pin an AssemblyScript version themselves.
 *
 * Two goals. `speed` (the default) is asconfig.json's options: asc -O3 with shrinkLevel 0, so binaryen
 * inlines the small accessors (`ArrayBuffer#byteLength`, `String#length`, the runtime's list links)
 * that the size settings leave as calls; in the harness that cut CPU per request by 10-30% on the
 * seed plugins (api-observer 29.3 -> 20.5 µs) for modules 10-27% larger. A further binaryen -O3 pass
 * after asc was measured and left out: on five of six plugins it only renumbered locals (same size),
 * and its CPU per request was within noise of asc's output (A/B both orders). `size` is
 * asconfig.json's `size` target (shrinkLevel 2) plus binaryen's size pass (optimize.ts): the smallest
 * module, e.g. where a registry or a cold start pays per byte.
 */

import { fileURLToPath } from "node:url";
import { PwtsError } from "@proxy-wasm-ts/errors";

/**
 * The compiler options every plugin is built with (usable as `asc --config <this>`, the speed build;
 * add `--target size` for the compiler half of the size build).
 */
export const ASCONFIG_PATH = fileURLToPath(new URL("../asconfig.json", import.meta.url));

/** What a release build optimizes for; the first is the default. */
export const OPTIMIZE_GOALS = ["speed", "size"] as const;
export type OptimizeGoal = (typeof OPTIMIZE_GOALS)[number];

/** True for the names `optimize` accepts (for command lines that read it as text). */
export function isOptimizeGoal(value: unknown): value is OptimizeGoal {
  return (OPTIMIZE_GOALS as readonly unknown[]).includes(value);
}

export interface CompileOptions {
  /** Directory the entry path is relative to (the plugin directory). */
  baseDir: string;
  /** Entry file relative to baseDir, e.g. `assembly/index.ts`. */
  entry: string;
  /** Debug build: names kept, no optimization (readable stack traces); `optimize` is then ignored. */
  debug?: boolean;
  /**
   * `speed` (default): asc -O3, shrinkLevel 0; faster per request, larger. `size`: asc -O3,
   * shrinkLevel 2, then binaryen's size pass; the smallest module.
   */
  optimize?: OptimizeGoal;
  /**
   * AssemblyScript runtime; default `minimal` from asconfig.json (the SDK collects garbage at safe
   * points). `incremental` is larger and slower; `stub` never frees memory. For measurements only.
   */
  runtime?: "minimal" | "incremental" | "stub";
}

export interface CompileResult {
  /** The final module. */
  wasm: Uint8Array;
  /** Size straight out of asc, before the size pass (equal to the module's size for speed). */
  compiledSize: number;
}

/** Thrown when the plugin does not compile; `message` holds asc's diagnostics. */
export class CompileError extends PwtsError {
  constructor(message: string) {
    super("PWTS_ERR_COMPILE", message);
  }
}

/** Compiles one plugin entry file for speed (default) or size, or as a debug build. */
export async function compilePlugin(options: CompileOptions): Promise<CompileResult> {
  const optimize = options.optimize ?? OPTIMIZE_GOALS[0];
  if (!isOptimizeGoal(optimize)) {
    throw new TypeError(
      `compilePlugin: optimize must be ${OPTIMIZE_GOALS.map((g) => `"${g}"`).join(" or ")}, not ${JSON.stringify(optimize)}`,
    );
  }
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
  else if (optimize === "size") argv.push("--target", "size");
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
  if (options.debug || optimize === "speed") return { wasm: compiled, compiledSize: compiled.byteLength };
  const { optimizeForSize } = await import("./optimize.ts");
  return {
    wasm: optimizeForSize(compiled),
    compiledSize: compiled.byteLength,
  };
}
