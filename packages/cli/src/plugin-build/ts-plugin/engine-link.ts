/**
 * The engine a TypeScript plugin runs on: quickjs-wasi's QuickJS-NG reactor (`quickjs-wasi/quickjs.wasm`,
 * from npm) merged with the @proxy-wasm-ts/js glue (AssemblyScript, compiled here) by binaryen's
 * wasm-merge into one module. Its imports are the glue's env.proxy_* hostcalls and QuickJS's WASI
 * calls; quickjs-wasi's own `env.host_*` imports are the glue's exports after the merge.
 *
 * Linking takes seconds, and the result depends only on the engine and glue versions, so it is cached
 * in the OS temp directory under a hash of its inputs.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PwtsError } from "@proxy-wasm-ts/errors";
import binaryen from "binaryen";

const require = createRequire(import.meta.url);

/** The Wasm features QuickJS (wasi-sdk) and the glue (asc) use, all of which Envoy's V8 runs. */
const MERGE_FEATURES = [
  "--enable-bulk-memory",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--enable-nontrapping-float-to-int",
];

/** Where the glue sources are: `glue/index.ts` and the `src/abi-codes.ts` it shares with the guest API. */
export interface GlueSources {
  /** The @proxy-wasm-ts/js package directory. */
  packageDir: string;
}

function glueFiles(glue: GlueSources): string[] {
  return [join(glue.packageDir, "glue", "index.ts"), join(glue.packageDir, "src", "abi-codes.ts")];
}

/** Compiles the glue: no runtime, QuickJS's memory, no static data (it shares QuickJS's address space). */
async function compileGlue(glue: GlueSources): Promise<Uint8Array> {
  const { default: asc } = await import("assemblyscript/asc");
  let binary: Uint8Array | null = null;
  const stderr = asc.createMemoryStream();
  const result = await asc.main(
    [
      "glue/index.ts",
      "--baseDir",
      glue.packageDir,
      "--outFile",
      "glue.wasm",
      "--runtime",
      "stub",
      "--importMemory",
      "--noExportMemory",
      "--use",
      "abort=",
      "--noAssert",
      "--optimizeLevel",
      "3",
      "--shrinkLevel",
      "2",
    ],
    {
      stderr,
      writeFile(name, contents) {
        if (name.endsWith(".wasm") && typeof contents !== "string") binary = contents;
      },
    },
  );
  const compiled = binary as Uint8Array | null;
  if (result.error || compiled === null) {
    throw new PwtsError("PWTS_ERR_COMPILE", `the engine glue did not compile:\n${stderr.toString()}`);
  }
  // asc imports memory as env.memory; it is QuickJS's, which the merge names "qjs".
  const module = binaryen.readBinary(compiled);
  try {
    const text = module.emitText().replace('(import "env" "memory"', '(import "qjs" "memory"');
    const renamed = binaryen.parseText(text);
    try {
      return renamed.emitBinary();
    } finally {
      renamed.dispose();
    }
  } finally {
    module.dispose();
  }
}

function runWasmMerge(args: string[]): Promise<void> {
  const tool = join(dirname(require.resolve("binaryen/package.json")), "bin", "wasm-merge");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tool, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve()
        : reject(new PwtsError("PWTS_ERR_COMPILE", `wasm-merge failed (exit ${code}): ${stderr.trim()}`)),
    );
  });
}

/** Bump when the linking steps below change, so cached engines from older steps are not reused. */
const LINK_FORMAT = "link-1";

/** Prefix of the exports that expose the glue's state to the snapshot (which removes them again). */
export const GLOBAL_EXPORT_PREFIX = "pwts_global_";

/**
 * Exports every mutable global that is not exported yet (the glue's state), so the build-time snapshot
 * can read its value and bake it into the global's initializer.
 */
function exportMutableGlobals(wasm: Uint8Array): Uint8Array {
  const module = binaryen.readBinary(wasm);
  try {
    const exported = new Set<string>();
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      if (info.kind === binaryen.ExternalGlobal) exported.add(info.value);
    }
    for (let i = 0; i < module.getNumGlobals(); i++) {
      const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
      if (info.mutable && !info.module && !exported.has(info.name)) {
        module.addGlobalExport(info.name, `${GLOBAL_EXPORT_PREFIX}${i}`);
      }
    }
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/** The quickjs-wasi engine module this CLI builds with. */
export function engineWasmPath(): string {
  return require.resolve("quickjs-wasi/quickjs.wasm");
}

/** The merged engine + glue module (from the cache when its inputs have not changed). */
export async function linkEngine(glue: GlueSources): Promise<Uint8Array> {
  const engine = await readFile(engineWasmPath());
  const hash = createHash("sha256").update(engine);
  for (const file of glueFiles(glue)) hash.update(await readFile(file));
  hash.update(LINK_FORMAT);
  hash.update(JSON.stringify(require("assemblyscript/package.json").version));
  const cacheDir = join(tmpdir(), "pwts-js-engine");
  const cached = join(cacheDir, `${hash.digest("hex").slice(0, 24)}.wasm`);
  if ((await stat(cached).catch(() => null))?.isFile()) return new Uint8Array(await readFile(cached));

  await mkdir(cacheDir, { recursive: true });
  const work = join(cacheDir, `link-${process.pid}-${Date.now()}`);
  await mkdir(work, { recursive: true });
  const gluePath = join(work, "glue.wasm");
  await writeFile(gluePath, await compileGlue(glue));
  const merged = join(work, "merged.wasm");
  // The glue is named "env": quickjs-wasi's env.host_* imports become calls into it, and the glue's
  // env.proxy_* imports (which it does not export) stay imports of the merged module.
  await runWasmMerge([engineWasmPath(), "qjs", gluePath, "env", ...MERGE_FEATURES, "-o", merged]);
  const linked = exportMutableGlobals(new Uint8Array(await readFile(merged)));
  const temporary = `${cached}.${process.pid}.tmp`;
  await writeFile(temporary, linked);
  await rename(temporary, cached);
  return linked;
}
