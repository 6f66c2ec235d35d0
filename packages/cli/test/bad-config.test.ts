import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import {
  headerPluginWat,
  rejectConfigurePluginWat,
  writePlugins,
} from "@proxy-wasm-ts/test-support/proxy-plugins";
import { main } from "../src/main.ts";

const plugins = writePlugins({ header: headerPluginWat(), reject: rejectConfigurePluginWat() });
const dir = mkdtempSync(join(tmpdir(), "pwts-bad-config-"));

/** Runs `pwts run` in-process on a config; returns the exit code and what it wrote to stderr. */
async function pwtsRun(yaml: string): Promise<{ code: number; stderr: string }> {
  const file = join(dir, `envoy-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  let stderr = "";
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(["run", "--quiet", file]);
    return { code, stderr };
  } finally {
    process.stderr.write = write;
  }
}

const route = (cluster: string) => `
              - match: { prefix: "/" }
                route: { cluster: ${cluster} }`;

describe("pwts run rejects bad configs with one line naming the problem", { timeout: 60_000 }, () => {
  test("unknown field", async () => {
    const yaml = httpBootstrap({
      routes: route("a"),
      clusters: `${staticCluster("a", 1)}\n    conect_timeout: 1s`,
    });
    const r = await pwtsRun(yaml);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^pwts: .*envoy-\w+\.yaml: static_resources\.clusters\[0\]\.conect_timeout: unknown or unsupported field \(supported here: .*connect_timeout.*\)\n$/,
    );
  });

  test("a route naming a missing cluster", async () => {
    const r = await pwtsRun(httpBootstrap({ routes: route("nope"), clusters: staticCluster("a", 1) }));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^pwts: \S+: static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.route_config\.virtual_hosts\[0\]\.routes\[0\]\.route\.cluster: cluster "nope" is not defined in static_resources\.clusters\n$/,
    );
  });

  test("a missing wasm file", async () => {
    const r = await pwtsRun(
      httpBootstrap({
        filters: wasmHttpFilter(join(dir, "missing.wasm")),
        routes: route("a"),
        clusters: staticCluster("a", 1),
      }),
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^pwts: \S+: \S+\.vm_config\.code\.local\.filename: cannot read Wasm module \S+missing\.wasm: no such file\n$/,
    );
  });

  test("a sha256 mismatch", async () => {
    const yaml = httpBootstrap({
      filters: wasmHttpFilter(plugins.path.header).replace(
        `code: { local: { filename: "${plugins.path.header}" } }`,
        `code: { remote: { http_uri: { uri: "http://127.0.0.1:65001/plugin.wasm", cluster: a, timeout: 2s }, sha256: "${"0".repeat(64)}" } }`,
      ),
      routes: route("a"),
      clusters: staticCluster("a", 65001),
    });
    // Serve the plugin from a tiny HTTP server so the fetch really happens.
    const wasm = (await import("node:fs")).readFileSync(plugins.path.header);
    const server = (await import("node:http")).createServer((_req, res) => res.end(wasm));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await pwtsRun(
        yaml
          .replace("127.0.0.1:65001", `127.0.0.1:${port}`)
          .replace("port_value: 65001", `port_value: ${port}`),
      );
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^pwts: \S+: \S+\.vm_config\.code: sha256 mismatch for http:\/\/127\.0\.0\.1:\d+\/plugin\.wasm: expected 0{64}, got [0-9a-f]{64}\n$/,
      );
    } finally {
      server.close();
    }
  });

  test("a plugin whose on_configure returns false", async () => {
    const r = await pwtsRun(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.reject, { name: "picky" }),
        routes: route("a"),
        clusters: staticCluster("a", 1),
      }),
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^pwts: \S+: \S+\.typed_config\.value\.config: plugin "picky" failed to start: .*\n$/,
    );
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1);
  });

  test("a port in use", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const yaml = httpBootstrap({ routes: route("a"), clusters: staticCluster("a", 1) }).replace(
        "address: { socket_address: { address: 127.0.0.1, port_value: 0 } }",
        `address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }`,
      );
      const r = await pwtsRun(yaml);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `pwts: listener web: address 127.0.0.1:${port} is already in use\n`);
    } finally {
      blocker.close();
    }
  });

  test("not YAML, and unsupported filter types", async () => {
    const r = await pwtsRun("static_resources: [unclosed");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^pwts: \S+: \S+: not valid YAML: .+\n$/);
    const lua = httpBootstrap({ routes: route("a"), clusters: staticCluster("a", 1) }).replace(
      "          - name: envoy.filters.http.router",
      `          - name: envoy.filters.http.lua
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua }
          - name: envoy.filters.http.router`,
    );
    const r2 = await pwtsRun(lua);
    assert.match(
      r2.stderr,
      /http_filters\[0\]: unsupported HTTP filter type envoy\.extensions\.filters\.http\.lua\.v3\.Lua/,
    );
  });
});
