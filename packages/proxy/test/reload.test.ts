import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { httpListener, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { headerPluginWat, noopPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { parseBootstrapText } from "../src/config/load-config.ts";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { RawConnection } from "./support/raw-http.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({ header: headerPluginWat(false), noop: noopPluginWat() });
const live = join(plugins.dir, "live.wasm");

function bootstrap(aBody: string, upstreamPort: number): string {
  return `
static_resources:
  listeners:${httpListener("a", `direct_response: { status: 200, body: { inline_string: "${aBody}" } }`)}${httpListener(
    "b",
    "route: { cluster: backend }",
    wasmHttpFilter(live, { name: "swappable" }),
  )}
  clusters:
  - name: backend
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: backend
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } } }] }]
`;
}

describe("swapping a filter's plugin and reloading listeners", { timeout: 60_000 }, () => {
  let upstream: TestUpstream;
  let p: RunningTestProxy;
  before(async () => {
    upstream = await startUpstream("backend");
    copyFileSync(plugins.path.header, live);
    p = await startTestProxy(bootstrap("first", upstream.port));
  });
  after(async () => {
    await p?.close();
    await upstream?.close();
  });

  test("swapCode: a stream in flight finishes on the old plugin, new streams get the new one, the old retires", async () => {
    const [slot] = p.proxy.pluginSlots();
    assert.ok(slot);
    const old = slot.plugin;
    // In flight: the upstream answers after 400 ms; the response headers are the old plugin's to see.
    const inFlight = request(`${p.url("b")}/slow/400`);
    await new Promise((r) => setTimeout(r, 100));
    copyFileSync(plugins.path.noop, live);
    const swapped = await p.proxy.plugins.swapCode(slot);
    assert.ok(swapped && swapped.size > 0);
    assert.notEqual(slot.plugin, old);
    assert.equal(await p.proxy.plugins.swapCode(slot), undefined, "the same bytes swap nothing");

    const fresh = await request(`${p.url("b")}/get`);
    await fresh.body.dump();
    assert.equal(fresh.headers["x-wasm-response"], undefined, "a new stream runs the new (no-op) plugin");
    const res = await inFlight;
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["x-wasm-response"], "on", "the stream in flight finished on the old plugin");
    // Retired once its last stream ended: its root context is shut down.
    for (let i = 0; i < 50 && !old.root.deleted; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(old.root.deleted, true);
    assert.equal(slot.plugin.root.deleted, false);
  });

  test("reload: an unchanged listener keeps its socket, a changed one answers anew on the same port", async () => {
    const bPort = p.port("b");
    const aPort = p.port("a");
    const conn = await RawConnection.open(bPort);
    conn.write("GET /get HTTP/1.1\r\nhost: b\r\n\r\n");
    await conn.waitFor(/\r\n\r\n[\s\S]*\}/);
    const summary = await p.proxy.reload(
      parseBootstrapText(bootstrap("second", upstream.port), "test.yaml", "."),
    );
    assert.deepEqual(summary, { unchanged: ["b"], replaced: ["a"], added: [], removed: [] });
    // The same connection to b still serves: its listener was not touched.
    conn.received = "";
    conn.write("GET /get HTTP/1.1\r\nhost: b\r\n\r\n");
    await conn.waitFor(/HTTP\/1\.1 200/);
    assert.equal(conn.closed, false);
    conn.socket.destroy();
    assert.equal(p.port("a"), aPort, "a kept its port");
    const a = await request(`http://127.0.0.1:${aPort}/`);
    assert.equal(await a.body.text(), "second");
  });

  test("reload: a change outside the listeners is refused naming it, and nothing changes", async () => {
    const other = bootstrap("third", upstream.port).replace("connect_timeout: 1s", "connect_timeout: 2s");
    await assert.rejects(
      p.proxy.reload(parseBootstrapText(other, "test.yaml", ".")),
      /static_resources\.clusters: changed: only listeners reload while running; restart to apply this change/,
    );
    const a = await request(`${p.url("a")}/`);
    assert.equal(await a.body.text(), "second");
  });
});
