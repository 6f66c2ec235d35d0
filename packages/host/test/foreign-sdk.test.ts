/**
 * Plugins written against another AssemblyScript Proxy-Wasm SDK (`@gcoredev/proxy-wasm-sdk-as`, G-Core's
 * fork of solo-io/proxy-runtime), compiled here with asc and run in the harness, checked against what the
 * SDK's authors document: the README's hello-world response header, header add/remove/replace, and the
 * httpCall callout that pauses a request until the answer arrives.
 *
 * Compiled modules are cached under `test/fixtures/gcore/build/` (git-ignored), keyed by a hash of the
 * source, the SDK and asc versions and the flags, so only the first run pays for asc.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { test } from "node:test";
import asc from "assemblyscript/asc";

const require = createRequire(import.meta.url);
const sourceDir = join(import.meta.dirname, "fixtures", "gcore");
const buildDir = join(sourceDir, "build");

/** Directory of an installed package (some packages do not export their package.json). */
function packageDir(name: string): string {
  const found = (require.resolve.paths(name) ?? [])
    .map((dir) => join(dir, name))
    .find((dir) => existsSync(join(dir, "package.json")));
  if (!found) throw new Error(`package ${name} is not installed (run npm install)`);
  return found;
}

async function packageVersion(name: string): Promise<string> {
  return (JSON.parse(await readFile(join(packageDir(name), "package.json"), "utf8")) as { version: string })
    .version;
}

/**
 * asc flags as the SDK's README asks: its logging needs @assemblyscript/wasi-shim's configuration, and
 * `abort=abort_proc_exit` routes aborts to the SDK's own handler instead of importing `env.abort` (which
 * Envoy does not provide).
 */
function ascFlags(): string[] {
  // Relative paths: asc resolves a config's "lib" wrongly when the config is named by an absolute path.
  const shimConfig = relative(process.cwd(), join(packageDir("@assemblyscript/wasi-shim"), "asconfig.json"));
  return [
    "--config",
    shimConfig,
    "--use",
    "abort=abort_proc_exit",
    "--optimizeLevel",
    "3",
    "--shrinkLevel",
    "0",
  ];
}

/** Compiles `fixtures/gcore/<name>.ts` with asc (or reuses the cached build) and returns the module bytes. */
async function compileGcorePlugin(name: string): Promise<Uint8Array> {
  const source = join(sourceDir, `${name}.ts`);
  const flags = ascFlags();
  const key = createHash("sha256")
    .update(await readFile(source))
    .update(
      `${await packageVersion("@gcoredev/proxy-wasm-sdk-as")}\0${await packageVersion("assemblyscript")}`,
    )
    .update(flags.join("\0"))
    .digest("hex")
    .slice(0, 16);
  const output = join(buildDir, `${name}-${key}.wasm`);
  try {
    return new Uint8Array(await readFile(output));
  } catch {
    // not built yet
  }
  await mkdir(buildDir, { recursive: true });
  const partial = `${output}.${process.pid}.tmp`;
  const stderr: string[] = [];
  const result = await asc.main([relative(process.cwd(), source), "--outFile", partial, ...flags], {
    stdout: { write: () => true } as never,
    stderr: { write: (chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0 } as never,
  });
  if (result.error)
    throw new Error(`asc could not compile ${source}: ${result.error.message}\n${stderr.join("")}`);
  await rename(partial, output); // atomic, so parallel test runs never read half a file
  return new Uint8Array(await readFile(output));
}

export { compileGcorePlugin };

test("the G-Core SDK plugins compile and import only what Envoy provides", { timeout: 120_000 }, async () => {
  for (const name of ["headers", "http-callout"]) {
    const bytes = await compileGcorePlugin(name);
    const module = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    assert.ok(!imports.includes("env.abort"), `${name}: env.abort must not be imported`);
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    assert.ok(exports.includes("proxy_abi_version_0_2_1"));
    assert.ok(
      exports.includes("_start"),
      "the wasi-shim makes asc export _start, which runs registerRootContext",
    );
  }
});
