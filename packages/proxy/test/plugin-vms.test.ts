import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { flakyPluginWat, headerPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { sha256Hex } from "../src/wasm/plugin-code.ts";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({ flaky: flakyPluginWat(), header: headerPluginWat() });

/** Two HTTP listeners, each with the flaky plugin (FAIL_OPEN) under the given vm_ids. */
function twoListeners(upstreamPort: number, vmA: string, vmB: string): string {
  const one = httpBootstrap({
    filters: wasmHttpFilter(plugins.path.flaky, { name: "a", vmId: vmA, extra: "failure_policy: FAIL_OPEN" }),
    routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
    clusters: staticCluster("backend", upstreamPort),
  });
  const listenerStart = one.indexOf("  - name: web");
  const listenerEnd = one.indexOf("  clusters:");
  const second = one
    .slice(listenerStart, listenerEnd)
    .replace("- name: web", "- name: web2")
    .replace('name: "a"', 'name: "b"')
    .replace(`vm_id: "${vmA}"`, `vm_id: "${vmB}"`);
  return one.slice(0, listenerEnd) + second + one.slice(listenerEnd);
}

async function pluginRan(url: string): Promise<boolean> {
  const res = await request(url);
  const body = (await res.body.json()) as { headers: Record<string, string> };
  return body.headers["x-wasm"] === "on";
}

describe("plugin VMs: vm_id sharing, remote code, stats_tags", { timeout: 60_000 }, () => {
  let upstream: TestUpstream;
  let codeServer: Server;
  let codePort: number;
  const running: RunningTestProxy[] = [];

  before(async () => {
    upstream = await startUpstream("backend");
    const wasm = readFileSync(plugins.path.header);
    codeServer = createServer((req, res) => {
      if (req.url === "/plugins/header.wasm") res.end(wasm);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => codeServer.listen(0, "127.0.0.1", resolve));
    codePort = (codeServer.address() as { port: number }).port;
  });

  after(async () => {
    for (const p of running) await p.close();
    await upstream?.close();
    codeServer?.close();
  });

  async function start(yaml: string): Promise<RunningTestProxy> {
    const p = await startTestProxy(yaml);
    running.push(p);
    return p;
  }

  test("filters with the same vm_id and code share one VM; different vm_ids do not", async () => {
    const shared = await start(twoListeners(upstream.port, "shared", "shared"));
    // The VM's request counter is shared: the second request (on the other listener) is the VM's 2nd, so it traps.
    assert.equal(await pluginRan(`${shared.url("web")}/1`), true);
    assert.equal(await pluginRan(`${shared.url("web2")}/2`), false);
    const separate = await start(twoListeners(upstream.port, "vm_a", "vm_b"));
    assert.equal(await pluginRan(`${separate.url("web")}/1`), true);
    assert.equal(await pluginRan(`${separate.url("web2")}/2`), true);
  });

  test("code from a remote URL through a cluster, checked against sha256; Istio-style stats_tags", async () => {
    const sha = sha256Hex(readFileSync(plugins.path.header));
    const yaml = httpBootstrap({
      statsTags: `stats_config:
  stats_tags:
  - tag_name: plugin
    regex: "^wasmcustom\\\\.((wasm)_)requests_total$"`,
      filters: wasmHttpFilter("unused").replace(
        'code: { local: { filename: "unused" } }',
        `code: { remote: { http_uri: { uri: "http://plugins.local/plugins/header.wasm", cluster: plugin_store, timeout: 5s }, sha256: ${sha} } }`,
      ),
      routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
      clusters: staticCluster("backend", upstream.port) + staticCluster("plugin_store", codePort),
    });
    const p = await start(yaml);
    assert.equal(await pluginRan(`${p.url()}/x`), true);
    const prom = await (await request(`${p.adminUrl()}/stats/prometheus`)).body.text();
    assert.match(prom, /^# TYPE requests_total counter\nrequests_total\{plugin="wasm"\} 1$/m);
  });
});
