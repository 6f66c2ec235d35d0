import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Pool } from "undici";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "./support/config.ts";
import { flakyPluginWat, writePlugins } from "./support/plugins.ts";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({ flaky: flakyPluginWat() });
const REQUESTS = 40;

/** Sends REQUESTS requests over 8 connections at once; returns status and whether the plugin ran. */
async function load(url: string): Promise<Array<{ status: number; pluginRan: boolean }>> {
  const pool = new Pool(url, { connections: 8 });
  try {
    return await Promise.all(
      Array.from({ length: REQUESTS }, async () => {
        const res = await pool.request({ path: "/get", method: "GET" });
        const text = await res.body.text();
        const pluginRan =
          res.statusCode === 200 &&
          (JSON.parse(text) as { headers: Record<string, string> }).headers["x-wasm"] === "on";
        return { status: res.statusCode, pluginRan };
      }),
    );
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

  test("FAIL_CLOSED: the trapping request and every later one get 503; the process stays up", async () => {
    const p = await proxyWith("FAIL_CLOSED");
    const results = await load(p.url());
    assert.equal(results.filter((r) => r.status === 200 && r.pluginRan).length, 1);
    assert.equal(results.filter((r) => r.status === 503).length, REQUESTS - 1);
    const ready = await fetch(`${p.adminUrl()}/ready`);
    assert.equal(ready.status, 200);
    assert.ok(
      p.stderr.some((l) =>
        /\[critical\]\[wasm\] wasm log flaky_FAIL_CLOSED flaky_FAIL_CLOSED: VM failed/.test(l),
      ),
    );
  });

  test("FAIL_OPEN: every request is served; the plugin is bypassed once its VM failed", async () => {
    const p = await proxyWith("FAIL_OPEN");
    const results = await load(p.url());
    assert.equal(results.filter((r) => r.status === 200).length, REQUESTS);
    assert.equal(results.filter((r) => r.pluginRan).length, 1);
  });

  test("FAIL_RELOAD: a fresh VM after each trap, so every other request is served by the plugin", async () => {
    const p = await proxyWith(
      "FAIL_RELOAD",
      "\n                  reload_config: { backoff: { base_interval: 0s } }",
    );
    const results = await load(p.url());
    assert.equal(results.filter((r) => r.status === 200 && r.pluginRan).length, REQUESTS / 2);
    assert.equal(results.filter((r) => r.status === 503).length, REQUESTS / 2);
    const line = p.stdout.find((l) => l.includes(" 503 "));
    assert.match(line ?? "", /"GET \/get HTTP\/1\.1" 503 - 0 0 /);
  });
});
