import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { flakyPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { Pool } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({ flaky: flakyPluginWat() });
const REQUESTS = 40;
const SEQUENTIAL = 10;

interface Outcome {
  status: number;
  pluginRan: boolean;
}

async function send(pool: Pool): Promise<Outcome> {
  const res = await pool.request({ path: "/get", method: "GET" });
  const text = await res.body.text();
  const pluginRan =
    res.statusCode === 200 &&
    (JSON.parse(text) as { headers: Record<string, string> }).headers["x-wasm"] === "on";
  return { status: res.statusCode, pluginRan };
}

/**
 * REQUESTS requests over 8 connections at once, then SEQUENTIAL one after another. Under load, requests in
 * flight when the VM traps fail with it (Envoy fails every stream of a failed VM the same way), so the
 * exact alternation is checked on the sequential part.
 */
async function load(url: string): Promise<{ concurrent: Outcome[]; sequential: Outcome[] }> {
  const pool = new Pool(url, { connections: 8 });
  try {
    const concurrent = await Promise.all(Array.from({ length: REQUESTS }, () => send(pool)));
    const sequential: Outcome[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) sequential.push(await send(pool));
    return { concurrent, sequential };
  } finally {
    await pool.close();
  }
}

describe("failure_policy with a plugin that traps on every other request, under load", {
  timeout: 60_000,
}, () => {
  let upstream: TestUpstream;
  const running: RunningTestProxy[] = [];

  before(async () => {
    upstream = await startUpstream("backend");
  });
  after(async () => {
    for (const p of running) await p.close();
    await upstream?.close();
  });

  async function proxyWith(policy: string, extra = ""): Promise<RunningTestProxy> {
    const p = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.flaky, {
          name: `flaky_${policy}`,
          extra: `failure_policy: ${policy}${extra}`,
        }),
        routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
        clusters: staticCluster("backend", upstream.port),
      }),
    );
    running.push(p);
    return p;
  }

  test("FAIL_CLOSED: once the VM traps, requests get 503; the process stays up", async () => {
    const p = await proxyWith("FAIL_CLOSED");
    const { concurrent, sequential } = await load(p.url());
    assert.ok(concurrent.filter((r) => r.status === 200).length <= 1);
    assert.ok(concurrent.every((r) => r.status === 503 || r.pluginRan));
    assert.deepEqual(
      sequential.map((r) => r.status),
      Array(SEQUENTIAL).fill(503),
    );
    const ready = await fetch(`${p.adminUrl()}/ready`);
    assert.equal(ready.status, 200);
    assert.ok(
      p.stderr.some((l) =>
        /\[critical\]\[wasm\] wasm log flaky_FAIL_CLOSED flaky_FAIL_CLOSED: VM failed/.test(l),
      ),
    );
    const line = p.stdout.find((l) => l.includes(" 503 "));
    assert.match(line ?? "", /"GET \/get HTTP\/1\.1" 503 - 0 0 /);
  });

  test("FAIL_OPEN: every request is served; the plugin is bypassed once its VM failed", async () => {
    const p = await proxyWith("FAIL_OPEN");
    const { concurrent, sequential } = await load(p.url());
    assert.ok([...concurrent, ...sequential].every((r) => r.status === 200));
    assert.ok(concurrent.filter((r) => r.pluginRan).length <= 1);
    assert.ok(sequential.every((r) => !r.pluginRan));
  });

  test("FAIL_RELOAD: a fresh VM after each trap; every other request is served by the plugin", async () => {
    const p = await proxyWith(
      "FAIL_RELOAD",
      "\n                  reload_config: { backoff: { base_interval: 0s } }",
    );
    const { concurrent, sequential } = await load(p.url());
    // Never bypassed: a request is either served with the plugin or failed closed.
    assert.ok(concurrent.every((r) => r.status === 503 || r.pluginRan));
    const statuses = sequential.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, SEQUENTIAL / 2, statuses.join(","));
    for (let i = 1; i < statuses.length; i++)
      assert.notEqual(statuses[i], statuses[i - 1], statuses.join(","));
    assert.ok(sequential.every((r) => r.status === 503 || r.pluginRan));
  });
});
