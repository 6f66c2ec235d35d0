import assert from "node:assert/strict";
import { test } from "node:test";
import { locateInConfig } from "../src/dev/config-location.ts";
import { DevOutput } from "../src/dev/dev-output.ts";

function captured() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    streams: {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
    },
  };
}

const PLUGIN_LINE = "[2026-12-03 10:00:00.000][1][info][wasm] wasm log versioned versioned: answered\n";
const OTHER_LINE = "[2026-12-03 10:00:00.000][1][warning][main] something else\n";
const ACCESS_LINE = '[2026-12-03T10:00:00.000Z] "GET / HTTP/1.1" 200 - 0 2 1 - "-" "curl" "id" "host" "-"\n';

test("plugin log lines print indented under their request's access log line; other lines pass", () => {
  const { out, streams } = captured();
  const proxyOut = new DevOutput(false, streams).streams();
  proxyOut.stderr(PLUGIN_LINE);
  proxyOut.stderr(OTHER_LINE);
  proxyOut.stdout(ACCESS_LINE);
  assert.equal(out.stdout, `${ACCESS_LINE}    ${PLUGIN_LINE}`);
  assert.equal(out.stderr, OTHER_LINE);
});

test("--json: requests, reloads and errors are JSON lines on stdout", () => {
  const { out, streams } = captured();
  const dev = new DevOutput(true, streams);
  const proxyOut = dev.streams();
  proxyOut.stderr(PLUGIN_LINE);
  proxyOut.stdout(ACCESS_LINE);
  dev.reload({
    kind: "plugin",
    target: "/p",
    changed: ["assembly/index.ts"],
    buildMs: 812,
    swapMs: 9,
    size: 8043,
    filters: ["versioned"],
  });
  dev.error({ kind: "build", target: "/p", message: "ERROR at assembly/index.ts:3:1" });
  const events = out.stdout
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(events, [
    { event: "request", accessLog: ACCESS_LINE.trimEnd(), pluginLogs: [PLUGIN_LINE.trimEnd()] },
    {
      event: "reload",
      kind: "plugin",
      target: "/p",
      changed: ["assembly/index.ts"],
      buildMs: 812,
      swapMs: 9,
      size: 8043,
      filters: ["versioned"],
    },
    { event: "error", kind: "build", target: "/p", message: "ERROR at assembly/index.ts:3:1" },
  ]);
});

test("a reload line says what changed, build and swap times and the module size", () => {
  const { out, streams } = captured();
  new DevOutput(false, streams).reload({
    kind: "plugin",
    target: "/p",
    changed: ["assembly/index.ts"],
    buildMs: 812.4,
    swapMs: 9.2,
    size: 8043,
    filters: ["versioned"],
  });
  assert.equal(
    out.stderr,
    "pwts: reload: assembly/index.ts changed; built in 812 ms; swapped versioned in 9 ms; module 7.9 KiB\n",
  );
});

test("a config error's field path is placed at its line and column; a YAML syntax error at its own", () => {
  const text =
    "static_resources:\n  listeners:\n    - name: web\n      address: { socket_address: { port_value: -5 } }\n";
  assert.deepEqual(locateInConfig(text, "static_resources.listeners[0].address.socket_address.port_value"), {
    line: 4,
    col: 48,
  });
  // A field the file does not have (a missing one) is placed at its nearest existing parent.
  assert.deepEqual(locateInConfig(text, "static_resources.listeners[0].filter_chains"), { line: 3, col: 7 });
  assert.deepEqual(locateInConfig("a: 1\na: 2\n", ""), { line: 2, col: 1 });
});
