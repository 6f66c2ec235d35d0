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
import {
  Action,
  findImport,
  ModuleLoadError,
  readImportSignatures,
  Status,
  sameSignature,
} from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
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

test("the G-Core SDK plugins compile and import only what Envoy provides", { timeout: 120_000 }, async () => {
  for (const name of ["headers", "http-callout", "body"]) {
    const bytes = await compileGcorePlugin(name);
    const module = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    assert.ok(!imports.includes("env.abort"), `${name}: env.abort must not be imported`);
    const unknown = WebAssembly.Module.imports(module).filter((i) => !findImport(i.module, i.name));
    assert.deepEqual(unknown, [], `${name}: every import is a host function of the import table`);
    // ...and declared with the host function's signature (Envoy refuses a mismatch at load).
    const misTyped = [...readImportSignatures(bytes)]
      .filter(([where, signature]) => {
        const [moduleName = "", importName = ""] = where.split(".");
        const spec = findImport(moduleName, importName);
        return spec && !sameSignature(signature, spec);
      })
      .map(([where]) => where);
    assert.deepEqual(misTyped, [], `${name}: every import has the signature Envoy provides`);
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    assert.ok(exports.includes("proxy_abi_version_0_2_1"));
    assert.ok(
      exports.includes("_start"),
      "the wasi-shim makes asc export _start, which runs registerRootContext",
    );
    // Inherited from solo-io/proxy-runtime: the trailing-metadata callback is exported under a name no host
    // calls, so gRPC trailing metadata never reaches plugins of this SDK (`pwts inspect` points it out).
    assert.ok(exports.includes("proxy_on_grpc_trailing_metadata"));
    assert.ok(!exports.includes("proxy_on_grpc_receive_trailing_metadata"));
  }
});

const REQUEST: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/orders/42"],
  [":authority", "shop.example"],
];

test("G-Core headers plugin: mutations on the request, hello header on the response", {
  timeout: 120_000,
}, async () => {
  const bytes = await compileGcorePlugin("headers");
  const t = await startPlugin(bytes, { name: "gcore-headers", rootId: "gcore_headers" });
  const http = t.http();
  assert.equal(http.requestHeaders(REQUEST), Action.Continue);
  const added = http.requestHeadersList.filter(([name]) => name.startsWith("x-"));
  assert.deepEqual(added, [
    ["x-replaced", "second"],
    ["x-repeated", "one"],
    ["x-repeated", "two"],
  ]);
  http.responseHeaders([[":status", "200"]]);
  assert.equal(http.responseHeader("hello"), "world!");
  http.complete();
  // The SDK logs through WASI stdout (its own "[LEVEL]: " prefix), so the host sees info lines.
  assert.ok(t.logs("info").includes("[INFO]: request path /orders/42"), t.logs().join("\n"));
  assert.equal(t.plugin.failed, false);

  const configured = await startPlugin(bytes, { rootId: "gcore_headers", configuration: "from-config" });
  const second = configured.http();
  second.requestHeaders(REQUEST);
  second.responseHeaders([[":status", "200"]]);
  assert.equal(second.responseHeader("hello"), "from-config");
});

test("G-Core httpCall plugin: pauses, then continues or denies on the callout's answer", {
  timeout: 120_000,
}, async () => {
  const t = await startPlugin(await compileGcorePlugin("http-callout"), { rootId: "gcore_http_callout" });

  const allowed = t.http();
  assert.equal(allowed.requestHeaders(REQUEST), Action.Pause);
  const call = t.httpCalls[0]!;
  assert.equal(call.cluster, "auth");
  assert.equal(call.timeoutMs, 500);
  assert.equal(call.header(":path"), "/check");
  assert.equal(call.header("x-original-path"), "/orders/42");
  call.respond({ headers: [[":status", "200"]], body: "alice" });
  assert.equal(allowed.events.requestResumed, 1);
  assert.equal(allowed.requestHeader("x-auth-user"), "alice");
  assert.equal(allowed.localReply, null);

  const refused = t.http();
  refused.requestHeaders(REQUEST);
  t.httpCalls[1]!.respond({ headers: [[":status", "401"]] });
  assert.equal(refused.localReply?.statusCode, 403);
  assert.equal(refused.localReplyBodyText, "denied: status 401");
  assert.equal(refused.events.requestResumed, 0);

  const failed = t.http();
  failed.requestHeaders(REQUEST);
  t.httpCalls[2]!.fail();
  assert.equal(failed.localReplyBodyText, "denied: auth unavailable");

  const timedOut = t.http();
  timedOut.requestHeaders(REQUEST);
  t.advance(499);
  assert.equal(timedOut.localReply, null);
  t.advance(1);
  // Envoy's router answers a timed-out callout with its 504 local reply, which the plugin gets as a response.
  assert.equal(timedOut.localReplyBodyText, "denied: status 504", "a timeout is a 504 answer");
  assert.ok(t.logs("info").includes("[WARN]: auth call failed"));
  assert.equal(t.plugin.failed, false);
});

test("G-Core httpCall plugin: an unknown cluster is BAD_ARGUMENT, answered with a local reply", {
  timeout: 120_000,
}, async () => {
  const t = await startPlugin(await compileGcorePlugin("http-callout"), { clusters: ["not-auth"] });
  const http = t.http();
  http.requestHeaders(REQUEST);
  assert.equal(t.httpCalls.length, 0);
  assert.equal(http.localReply?.statusCode, 403);
  assert.equal(http.localReplyBodyText, "denied: dispatch failed");
  assert.ok(t.logs("info").includes(`[ERROR]: could not dispatch auth call: ${Status.BadArgument}`));
});

test("G-Core body plugin: buffers the request body to its end, then redacts it", {
  timeout: 120_000,
}, async () => {
  const t = await startPlugin(await compileGcorePlugin("body"), { rootId: "gcore_body" });
  const redacted = t.http();
  redacted.requestHeaders([...REQUEST, ["content-length", "22"]]);
  assert.equal(redacted.requestHeader("content-length"), undefined);
  assert.equal(redacted.requestBody("Hello from ", false), Action.Pause, "held until end_of_stream");
  assert.equal(redacted.requestBody("Client side", true), Action.Continue);
  assert.equal(redacted.requestBodyText, "Original message body (22 bytes) redacted.\n");

  const untouched = t.http();
  untouched.requestHeaders(REQUEST);
  untouched.requestBody("nothing to ", false);
  untouched.requestBody("see here", true);
  assert.equal(untouched.requestBodyText, "nothing to see here");
  assert.equal(t.plugin.failed, false);
});

test("G-Core clear_route_cache imports a v0.1.0-only function: the load fails as in Envoy", {
  timeout: 120_000,
}, async () => {
  const bytes = await compileGcorePlugin("route-cache");
  await assert.rejects(startPlugin(bytes), (err: unknown) => {
    assert.ok(err instanceof ModuleLoadError, String(err));
    assert.match(err.message, /env\.proxy_clear_route_cache/);
    assert.match(err.message, /0\.1\.0/);
    return true;
  });
});

test("G-Core gRPC call: the SDK declares proxy_grpc_call with 10 parameters, so the load fails as in Envoy", {
  timeout: 120_000,
}, async () => {
  const bytes = await compileGcorePlugin("grpc-call");
  // The module does import it, with the SDK's 10-parameter declaration (the ABI's has 12).
  assert.equal(readImportSignatures(bytes).get("env.proxy_grpc_call")?.params.length, 10);
  await assert.rejects(startPlugin(bytes), (err: unknown) => {
    assert.ok(err instanceof ModuleLoadError, String(err));
    assert.match(err.message, /import env\.proxy_grpc_call has the wrong signature/);
    assert.match(
      err.message,
      /declares \((i32, ){9}i32\) -> \(i32\), the host \(and Envoy\) provide \((i32, ){11}i32\)/,
    );
    return true;
  });
});
