/**
 * `pwts inspect`: run as a user runs it (a child process), on modules compiled from the host's `.wat`
 * fixtures and on small modules written here for one problem each.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";

const run = promisify(execFile);
const pwts = join(import.meta.dirname, "..", "bin", "pwts.js");
const hostFixtures = join(import.meta.dirname, "..", "..", "host", "test", "fixtures");
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pwts-inspect-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function inspect(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [pwts, "inspect", ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function wasmFile(name: string, wat: string): Promise<string> {
  const path = join(dir, `${name}.wasm`);
  await writeFile(path, compileWat(wat, `${name}.wat`));
  return path;
}

async function fixtureFile(name: string): Promise<string> {
  return wasmFile(name, await readFile(join(hostFixtures, `${name}.wat`), "utf8"));
}

/** A minimal loadable v0.2.1 plugin with extra module fields spliced in. */
function plugin(extra: string, marker = "proxy_abi_version_0_2_1"): string {
  return `(module ${extra}
    (memory (export "memory") 1)
    (func (export "${marker}"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_on_context_create") (param i32 i32)))`;
}

test("a loadable TCP filter: ABI, size, imports and exports, exit 0", { timeout: 60_000 }, async () => {
  const file = await fixtureFile("tcp-filter");
  const { size } = await import("node:fs/promises").then((fs) => fs.stat(file));
  const out = await inspect(file);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /ABI\s+0\.2\.1/);
  assert.match(out.stdout, new RegExp(`size\\s+${size} bytes`));
  assert.match(out.stdout, /allocator\s+malloc/);
  assert.match(out.stdout, /imports \(5\)/);
  assert.match(
    out.stdout,
    /ok env\.proxy_call_foreign_function\s+\(i32, i32, i32, i32, i32, i32\) -> \(i32\)/,
  );
  assert.match(out.stdout, /proxy_on_downstream_data\n/);
  assert.match(out.stdout, /Envoy can load this plugin\./);
  assert.equal(out.stderr, "");
});

test("Rust- and Go-shaped modules: start-up export and ABI version", { timeout: 60_000 }, async () => {
  const rust = await inspect(await fixtureFile("rust-shaped"));
  assert.equal(rust.code, 0, rust.stdout);
  assert.match(rust.stdout, /start-up\s+_initialize\n/);
  assert.match(rust.stdout, /allocator\s+proxy_on_memory_allocate/);
  const go = await inspect(await fixtureFile("go-shaped"));
  assert.equal(go.code, 0, go.stdout);
  assert.match(go.stdout, /ABI\s+0\.2\.0/);
  assert.match(go.stdout, /start-up\s+_start/);
  assert.match(go.stdout, /ok wasi_snapshot_preview1\.sched_yield\s+\(\) -> \(i32\)/);
});

test("an unknown import is marked and makes the exit status 1", { timeout: 60_000 }, async () => {
  const out = await inspect(await fixtureFile("unknown-import"));
  assert.equal(out.code, 1);
  assert.match(out.stdout, /!! env\.proxy_frobnicate_widget .*NOT PROVIDED by the host or Envoy/);
  assert.match(out.stdout, /Envoy could not load this plugin \(1 problem\(s\)\)/);
  assert.match(out.stdout, /proxy-wasm-ts host: .*env\.proxy_frobnicate_widget/);
});

test("a module without an ABI marker cannot load", { timeout: 60_000 }, async () => {
  const out = await inspect(await fixtureFile("no-abi-version"));
  assert.equal(out.code, 1);
  assert.match(out.stdout, /ABI\s+none/);
  assert.match(out.stdout, /missing or unknown Proxy-Wasm ABI version/);
});

test("an import with the wrong signature is marked, as Envoy's import type mismatch", {
  timeout: 60_000,
}, async () => {
  // @gcoredev/proxy-wasm-sdk-as declares proxy_grpc_call without the initial-metadata pair (10 parameters).
  const file = await wasmFile(
    "grpc-ten-params",
    plugin(
      `(import "env" "proxy_grpc_call" (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))`,
    ),
  );
  const out = await inspect(file);
  assert.equal(out.code, 1);
  assert.match(
    out.stdout,
    /!! env\.proxy_grpc_call .*WRONG SIGNATURE: the host and Envoy provide \((i32, ){11}i32\)/,
  );
  // The host's loader refuses it too, for the same reason: inspect and the host read signatures alike.
  assert.match(out.stdout, /proxy-wasm-ts host: import env\.proxy_grpc_call has the wrong signature/);
});

test("a v0.1.0-only host function imported by a v0.2.1 module is marked", { timeout: 60_000 }, async () => {
  const file = await wasmFile(
    "clear-route-cache",
    plugin(`(import "env" "proxy_clear_route_cache" (func (result i32)))`),
  );
  const out = await inspect(file);
  assert.equal(out.code, 1);
  assert.match(
    out.stdout,
    /!! env\.proxy_clear_route_cache .*NOT PROVIDED to this ABI version \(only to 0\.1\.0\)/,
  );
  const legacy = await inspect(await fixtureFile("abi-v0-1-0"));
  assert.equal(legacy.code, 0, legacy.stdout);
  assert.match(legacy.stdout, /ok env\.proxy_clear_route_cache/);
});

test("exports no host calls are pointed out", { timeout: 60_000 }, async () => {
  // The misspelt callback solo-io/proxy-runtime and its forks export instead of the spec's name.
  const file = await wasmFile(
    "misspelt-callback",
    plugin(`(func (export "proxy_on_grpc_trailing_metadata") (param i32 i32 i32))`),
  );
  const out = await inspect(file);
  assert.equal(out.code, 0);
  assert.match(
    out.stdout,
    /proxy_on_grpc_trailing_metadata {2}\(no host calls this: not a callback of the ABI\)/,
  );
  assert.match(out.stdout, /proxy_on_context_create\n/);
});

test("--json prints the same report as data", { timeout: 60_000 }, async () => {
  const out = await inspect("--json", await fixtureFile("unknown-import"));
  assert.equal(out.code, 1);
  const report = JSON.parse(out.stdout) as {
    abiVersion: string;
    imports: Array<{ name: string; verdict: { kind: string } }>;
    problems: string[];
  };
  assert.equal(report.abiVersion, "0.2.1");
  assert.deepEqual(
    report.imports.map((i) => [i.name, i.verdict.kind]),
    [
      ["proxy_log", "ok"],
      ["proxy_frobnicate_widget", "missing"],
    ],
  );
  assert.equal(report.problems.length, 1);
});

test("a missing file is a one-line user error with exit status 2", { timeout: 60_000 }, async () => {
  const out = await inspect(join(dir, "does-not-exist.wasm"));
  assert.equal(out.code, 2);
  assert.equal(out.stdout, "");
  assert.match(out.stderr, /^pwts: cannot read .*does-not-exist\.wasm: no such file\n$/);
});

test("input that is not WebAssembly is a one-line user error with exit status 2", {
  timeout: 60_000,
}, async () => {
  const text = join(dir, "notes.txt");
  await writeFile(text, "hello, I am not a module\n");
  const out = await inspect(text);
  assert.equal(out.code, 2);
  assert.match(
    out.stderr,
    /^pwts: .*notes\.txt is not a WebAssembly module: expected the magic bytes \\0asm/,
  );
  assert.doesNotMatch(out.stderr, /\n\s+at /, "no stack trace");

  const wat = join(dir, "plugin.wat");
  await writeFile(wat, plugin(""));
  const watOut = await inspect(wat);
  assert.equal(watOut.code, 2);
  assert.match(watOut.stderr, /looks like WebAssembly text; compile it to \.wasm first/);

  const truncated = join(dir, "truncated.wasm");
  await writeFile(truncated, compileWat(plugin("")).subarray(0, 20));
  const truncatedOut = await inspect(truncated);
  assert.equal(truncatedOut.code, 2);
  assert.match(truncatedOut.stderr, /^pwts: .*truncated\.wasm is not a valid WebAssembly module: /);
});

test("imports no proxy provides come with advice on where they come from", { timeout: 60_000 }, async () => {
  const file = await wasmFile(
    "assemblyscript-defaults",
    plugin(`(import "env" "abort" (func (param i32 i32 i32 i32)))
      (import "env" "proxy_kv_store_open" (func (param i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func (param i32 i64) (result i32)))`),
  );
  const out = await inspect(file);
  assert.equal(out.code, 1);
  assert.match(
    out.stdout,
    /!! env\.abort .*NOT PROVIDED.*\n\s+-> AssemblyScript's runtime import: build with --use abort=/,
  );
  assert.match(out.stdout, /!! env\.proxy_kv_store_open .*\n\s+-> a G-Core FastEdge extension/);
  assert.match(
    out.stdout,
    /!! wasi_snapshot_preview1\.fd_filestat_set_size .*\n\s+-> file-system or socket WASI call/,
  );
  assert.match(out.stdout, /Envoy could not load this plugin \(3 problem\(s\)\)/);
});
