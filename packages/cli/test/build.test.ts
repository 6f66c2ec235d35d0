import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { buildPlugin } from "../src/plugin-build/build-plugin.ts";
import { UserError } from "../src/user-error.ts";
import { runPwts } from "./support/run-pwts.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
// Scratch plugins live inside the repository so their `@proxy-wasm-ts/sdk/...` imports resolve
// through the workspace's node_modules; `build/` is gitignored.
const SCRATCH = join(REPO, "packages", "cli", "build", "test-plugins");
const made: string[] = [];

after(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

async function scratchPlugin(source: string): Promise<string> {
  await mkdir(SCRATCH, { recursive: true });
  const dir = await mkdtemp(join(SCRATCH, "plugin-"));
  made.push(dir);
  await mkdir(join(dir, "assembly"));
  await writeFile(join(dir, "package.json"), '{"name":"scratch","private":true}\n');
  await writeFile(join(dir, "assembly", "index.ts"), source);
  return dir;
}

const HEADER_PLUGIN = `
export * from "@proxy-wasm-ts/sdk/assembly/exports";
import { Action, HttpContext, RootContext, registerRootContext, responseHeaders } from "@proxy-wasm-ts/sdk/assembly";
class Stream extends HttpContext {
  onResponseHeaders(count: u32, endOfStream: bool): Action {
    responseHeaders.set("x-built", "yes");
    return Action.Continue;
  }
}
class Root extends RootContext {
  createHttpContext(id: u32): HttpContext | null {
    return new Stream(id, this);
  }
}
registerRootContext((id: u32): RootContext => new Root(id));
`;

function pluginDirs(): string[] {
  const plugins = join(REPO, "plugins");
  return readdirSync(plugins)
    .map((name) => join(plugins, name))
    .filter((dir) => existsSync(join(dir, "assembly", "index.ts")));
}

test("every plugin in the repository builds and imports only what Envoy provides", {
  timeout: 1_200_000,
}, async () => {
  await mkdir(SCRATCH, { recursive: true });
  const out = await mkdtemp(join(SCRATCH, "out-"));
  made.push(out);
  for (const dir of pluginDirs()) {
    const name = dir.split("/").pop();
    const result = await buildPlugin(dir, { outFile: join(out, `${name}.wasm`) });
    assert.equal(result.abiVersion, "0.2.1", `${name}: ABI version`);
    assert.deepEqual(result.unsupported, [], `${name}: unsupported imports`);
    assert.ok(
      result.imports.every((i) => i.startsWith("env.proxy_") || i.startsWith("wasi_snapshot_preview1.")),
    );
  }
});

test("pwts build writes build/plugin.wasm and prints its size and imports", {
  timeout: 300_000,
}, async () => {
  const dir = await scratchPlugin(HEADER_PLUGIN);
  const { code, stdout: output } = await runPwts(["build", dir]);
  assert.equal(code, 0);
  assert.ok(existsSync(join(dir, "build", "plugin.wasm")));
  assert.match(output, /build\/plugin\.wasm: \d+ bytes \(\d+\.\d KiB\), ABI 0\.2\.1/);
  assert.match(output, /env\.proxy_replace_header_map_value/);
});

test("pwts build --optimize size writes a smaller module than the default, --optimize speed", {
  timeout: 600_000,
}, async () => {
  const dir = await scratchPlugin(HEADER_PLUGIN);
  const built = async (...flags: string[]) => {
    const out = join(dir, "build", `${flags.join("") || "default"}.wasm`);
    const { code } = await runPwts(["build", dir, "-o", out, ...flags]);
    assert.equal(code, 0, `pwts build ${flags.join(" ")}`);
    return readFile(out);
  };
  const byDefault = await built();
  const speed = await built("--optimize", "speed");
  const size = await built("--optimize=size");
  assert.deepEqual(byDefault, speed, "speed is the default");
  assert.ok(size.byteLength < speed.byteLength, `size ${size.byteLength} bytes, speed ${speed.byteLength}`);
});

test("pwts build --optimize with another value fails, naming the flag and its values", {
  timeout: 60_000,
}, async () => {
  const dir = await scratchPlugin(HEADER_PLUGIN);
  // The real binary, as a user runs it: the message and exit status are commander's, through main.
  const pwts = join(REPO, "packages", "cli", "bin", "pwts.js");
  const failed = await promisify(execFile)(process.execPath, [pwts, "build", dir, "--optimize", "fast"]).then(
    () => assert.fail("pwts build --optimize fast succeeded"),
    (err: { code: number; stderr: string }) => err,
  );
  assert.equal(failed.code, 1);
  assert.match(
    failed.stderr,
    /option '--optimize <goal>' argument 'fast' is invalid\. Allowed choices are speed, size\./,
  );
  assert.equal(existsSync(join(dir, "build", "plugin.wasm")), false, "nothing is written");
});

test("an import Envoy does not provide fails the build, naming the import", {
  timeout: 300_000,
}, async () => {
  const dir = await scratchPlugin(`${HEADER_PLUGIN}
@external("env", "proxy_clear_route_cache") declare function clearRouteCacheV010(): u32;
@external("env", "my_custom_hostcall") declare function custom(): u32;
export function use(): u32 { return clearRouteCacheV010() + custom(); }
`);
  await assert.rejects(buildPlugin(dir), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /env\.proxy_clear_route_cache \(only provided to ABI 0\.1\.0 modules/);
    assert.match(err.message, /env\.my_custom_hostcall \(not a Proxy-Wasm or WASI host function\)/);
    return true;
  });
  assert.equal(existsSync(join(dir, "build", "plugin.wasm")), false, "nothing is written");
});

test("a missing ABI export, a compile error and a missing entry file are user errors", {
  timeout: 300_000,
}, async () => {
  const noExports = await scratchPlugin("export function hello(): i32 { return 1; }\n");
  await assert.rejects(
    buildPlugin(noExports),
    /must contain: export \* from "@proxy-wasm-ts\/sdk\/assembly\/exports";/,
  );
  const noExportLine = await scratchPlugin(
    HEADER_PLUGIN.replace('export * from "@proxy-wasm-ts/sdk/assembly/exports";', ""),
  );
  await assert.rejects(buildPlugin(noExportLine), /does not export proxy_abi_version_0_2_1, malloc: add/);
  const broken = await scratchPlugin("export function broken(): i32 { return undefinedThing; }\n");
  await assert.rejects(buildPlugin(broken), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /compiling assembly\/index\.ts failed:[\s\S]*undefinedThing/);
    return true;
  });
  await assert.rejects(
    buildPlugin(SCRATCH),
    /is not a plugin directory: expected the entry file assembly\/index\.ts/,
  );
});
