import assert from "node:assert/strict";
import { before, test } from "node:test";
import { PeerType } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./support/fixture-build.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("tcp");
});

test("TCP: the new connection picks the cluster from the source address", { timeout: 60_000 }, async () => {
  const plugin = await startPlugin(wasm);
  const even = plugin.tcp({ "source.address": "172.21.0.10:58762" });
  even.newConnection();
  assert.equal(even.upstreamCluster, "egress-even");
  const odd = plugin.tcp({ "source.address": "172.21.0.11:40000" });
  odd.newConnection();
  assert.equal(odd.upstreamCluster, "egress-odd");
  even.complete();
  odd.complete();
});

test("TCP: downstream data rewritten, upstream data observed, closes reported", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm);
  const conn = plugin.tcp({ "source.address": "10.0.0.2:1000" });
  conn.newConnection();
  conn.downstreamData("PING 1\n", false);
  assert.equal(new TextDecoder().decode(conn.forwardedUpstream), "PONG 1\n");
  conn.upstreamData("reply", false);
  assert.equal(new TextDecoder().decode(conn.forwardedDownstream), "reply");
  conn.closeDownstream(PeerType.Remote);
  conn.closeUpstream(PeerType.Local);
  const logs = plugin.logs("info");
  assert.ok(logs.includes("upstream sent 5 bytes"));
  assert.ok(logs.includes("downstream closed by remote"));
  assert.ok(logs.includes("upstream closed"));
  conn.complete();
});
