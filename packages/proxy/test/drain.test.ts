import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { httpBootstrap, staticCluster } from "@proxy-wasm-ts/test-support/envoy-config";
import { Client } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

let upstream: TestUpstream;
let p: RunningTestProxy;

before(async () => {
  upstream = await startUpstream("backend");
  p = await startTestProxy(
    httpBootstrap({
      routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
      clusters: staticCluster("backend", upstream.port),
    }),
  );
});

after(async () => {
  await p?.close();
  await upstream?.close();
});

test("drain lets an in-flight request finish, then refuses new connections", {
  timeout: 30_000,
}, async () => {
  const client = new Client(p.url());
  try {
    const inFlight = client.request({ path: "/slow/300", method: "GET" });
    await new Promise((r) => setTimeout(r, 100));
    const drained = p.proxy.drain(5000);
    const res = await inFlight;
    assert.equal(res.statusCode, 200);
    assert.match(await res.body.text(), /"url":"\/slow\/300"/);
    await drained;
    await assert.rejects(fetch(`${p.url()}/after-drain`));
  } finally {
    await client.destroy();
  }
});
