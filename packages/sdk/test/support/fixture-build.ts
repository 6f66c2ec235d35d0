/**
 * Compiles AssemblyScript test plugins with the SDK and caches the result under
 * `packages/sdk/build/test-cache/` (gitignored), keyed by a hash of the source, every SDK file and
 * the compiler options: a rebuild happens only when something it depends on changed.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ASCONFIG_PATH, compilePlugin, type OptimizeGoal } from "../../src/index.ts";

const SDK_DIR = fileURLToPath(new URL("../../", import.meta.url));
const CACHE_DIR = join(SDK_DIR, "build", "test-cache");
/** Directory of the fixture plugins. */
export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/", import.meta.url));

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

let sdkDigest: Promise<string> | undefined;
function digestSdk(): Promise<string> {
  sdkDigest ??= (async () => {
    const hash = createHash("sha256");
    for (const file of [
      ...(await listFiles(join(SDK_DIR, "assembly"))),
      ASCONFIG_PATH,
      join(SDK_DIR, "src", "compile.ts"),
      join(SDK_DIR, "src", "optimize.ts"),
    ]) {
      hash.update(relative(SDK_DIR, file)).update(await readFile(file));
    }
    return hash.digest("hex");
  })();
  return sdkDigest;
}

/**
 * Builds an AssemblyScript file (absolute path, or a name in test/fixtures) and returns the module; a
 * release build optimizes for `optimize` (default: compilePlugin's, speed).
 */
export async function buildFixture(
  source: string,
  options: { debug?: boolean; optimize?: OptimizeGoal } = {},
): Promise<Uint8Array> {
  const path = source.includes("/")
    ? source
    : join(FIXTURES_DIR, source.endsWith(".ts") ? source : `${source}.ts`);
  const text = await readFile(path);
  const key = createHash("sha256")
    .update(await digestSdk())
    .update(text)
    .update(options.debug ? "debug" : `release-${options.optimize ?? "default"}`)
    .digest("hex")
    .slice(0, 16);
  const cached = join(CACHE_DIR, `${basename(path, ".ts")}.${key}.wasm`);
  const hit = await readFile(cached).catch(() => null);
  if (hit) return new Uint8Array(hit);
  const { wasm } = await compilePlugin({
    baseDir: dirname(path),
    entry: basename(path),
    debug: options.debug,
    optimize: options.optimize,
  });
  await mkdir(CACHE_DIR, { recursive: true });
  // Write then rename, so a concurrent test file never reads half a module.
  const temp = `${cached}.${process.pid}.tmp`;
  await writeFile(temp, wasm);
  await rename(temp, cached);
  return wasm;
}
