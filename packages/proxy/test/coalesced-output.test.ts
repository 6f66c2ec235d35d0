import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { CoalescedOutput } from "../src/coalesced-output.ts";
import { WAT_PLUGIN_BASICS } from "./support/wat-plugin.ts";

const PKG = new URL("..", import.meta.url).pathname;

/** An output that records each write it gets, with its stream. */
function recorder(): { writes: string[]; out: CoalescedOutput } {
  const writes: string[] = [];
  const out = new CoalescedOutput({
    stdout: (t) => void writes.push(`stdout:${t}`),
    stderr: (t) => void writes.push(`stderr:${t}`),
  });
  return { writes, out };
}

test("lines written in one turn arrive together, in order, once the turn is done", async () => {
  const { writes, out } = recorder();
  out.stderr("a\n");
  out.stderr("b\n");
  out.stdout("c\n");
  out.stderr("d\n");
  assert.deepEqual(writes, []);
  await nextTurn();
  // A line to the other stream starts a new write, so stdout and stderr keep their relative order.
  assert.deepEqual(writes, ["stderr:a\nb\n", "stdout:c\n", "stderr:d\n"]);
  out.stderr("e\n");
  await nextTurn();
  assert.deepEqual(writes.slice(3), ["stderr:e\n"]);
});

test("flush writes what is pending at once, and the turn's end then has nothing more to write", async () => {
  const { writes, out } = recorder();
  out.stderr("a\n");
  out.flush();
  assert.deepEqual(writes, ["stderr:a\n"]);
  await nextTurn();
  assert.deepEqual(writes, ["stderr:a\n"]);
});

test("a turn that writes more than 64 KiB writes it out without waiting for the turn's end", () => {
  const { writes, out } = recorder();
  const line = `${"x".repeat(1023)}\n`;
  for (let i = 0; i < 64; i++) out.stderr(line);
  assert.equal(writes.length, 1);
  assert.equal(writes[0], `stderr:${line.repeat(64)}`);
});

/** Runs `body` (ES module code) in a child Node.js process that reads the package's TypeScript sources. */
function child(body: string) {
  const code = `
import { processStreams } from ${JSON.stringify(`${PKG}src/coalesced-output.ts`)};
import { parseBootstrapText } from ${JSON.stringify(`${PKG}src/config/load-config.ts`)};
import { LocalDataPlane, startProxy } from ${JSON.stringify(`${PKG}src/proxy.ts`)};
const out = processStreams();
${body}`;
  const r = spawnSync(
    process.execPath,
    ["--conditions=@proxy-wasm-ts/source", "--import", "tsx", "--input-type=module", "-e", code],
    { cwd: PKG, encoding: "utf8" },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const LINES = Array.from({ length: 500 }, (_, i) => `line ${i}\n`);

test("a process that logs and exits at once prints every line, in order", () => {
  const r = child(`
for (let i = 0; i < 500; i++) {
  out.stderr("line " + i + "\\n");
  if (i % 100 === 0) out.stdout("out " + i + "\\n");
}
process.exit(3);`);
  assert.equal(r.status, 3);
  assert.equal(r.stderr, LINES.join(""));
  assert.equal(r.stdout, "out 0\nout 100\nout 200\nout 300\nout 400\n");
});

test("a process that dies of an uncaught exception prints its lines before the error", () => {
  const r = child(`
out.stderr("before the error\\n");
throw new Error("boom");`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^before the error\n[\s\S]*Error: boom/);
});

test("the data plane's close() writes the lines still held before it resolves", () => {
  const r = child(`
const proxy = new LocalDataPlane(parseBootstrapText("static_resources: {}", "t.yaml", process.cwd()));
out.stderr("held\\n");
await proxy.close();
process.stderr.write("closed\\n");`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "held\nclosed\n");
});

/** A Wasm service whose on_configure logs "configured" (info). */
const LOGGING_SERVICE = `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "configured")
  ${WAT_PLUGIN_BASICS}
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $log (i32.const 2) (i32.const 16) (i32.const 10)))
    (i32.const 1))
)`;

test("a plugin's log line written before a progress line of the same turn comes out first", () => {
  const plugins = writePlugins({ service: LOGGING_SERVICE });
  const yaml = `
bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: true
    config:
      name: svc
      root_id: svc
      vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: "${plugins.path.service}" } } }
static_resources: {}
`;
  // The service's on_configure logs, then the data plane reports "wasm service svc started" in that turn.
  const r = child(`
const proxy = await startProxy(parseBootstrapText(${JSON.stringify(yaml)}, "t.yaml", process.cwd()), {
  progress: (line) => process.stderr.write("progress: " + line + "\\n"),
});
await proxy.close();`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.split("\n");
  const logged = lines.findIndex((l) => l.endsWith("[info][wasm] wasm log svc svc: configured"));
  const started = lines.indexOf("progress: wasm service svc started (singleton)");
  assert.ok(logged >= 0 && started >= 0, r.stderr);
  assert.ok(logged < started, r.stderr);
});
