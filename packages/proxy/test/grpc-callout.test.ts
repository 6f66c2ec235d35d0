import assert from "node:assert/strict";
import { createServer, type Http2Server } from "node:http2";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { grpcPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({ grpc: grpcPluginWat() });

/** A gRPC server without a gRPC library: `test.Echo/Reverse` answers the reversed message; others UNIMPLEMENTED. */
function grpcServer(seen: Array<{ path: string; authority: string; timeout: string }>): Http2Server {
  return createServer((req, res) => {
    seen.push({
      path: req.url,
      authority: String(req.headers[":authority"]),
      timeout: String(req.headers["grpc-timeout"]),
    });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.setHeader("content-type", "application/grpc");
      if (req.url !== "/test.Echo/Reverse") {
        res.addTrailers({ "grpc-status": "12", "grpc-message": "unknown method" });
        res.end();
        return;
      }
      const body = Buffer.concat(chunks);
      const message = body.subarray(5, 5 + body.readUInt32BE(1));
      const reply = Buffer.from([...message].reverse());
      const out = Buffer.alloc(5 + reply.length);
      out.writeUInt32BE(reply.length, 1);
      reply.copy(out, 5);
      res.addTrailers({ "grpc-status": "0" });
      res.end(out);
    });
  });
}

describe("gRPC callouts from a plugin go to the cluster over HTTP/2", { timeout: 30_000 }, () => {
  let upstream: TestUpstream;
  let grpc: Http2Server;
  let p: RunningTestProxy;
  const seen: Array<{ path: string; authority: string; timeout: string }> = [];

  before(async () => {
    upstream = await startUpstream("backend");
    grpc = grpcServer(seen);
    await new Promise<void>((resolve) => grpc.listen(0, "127.0.0.1", resolve));
    const grpcPort = (grpc.address() as { port: number }).port;
    p = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.grpc, { name: "grpc" }),
        routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
        clusters: `${staticCluster("backend", upstream.port)}${staticCluster("grpc_backend", grpcPort, "127.0.0.1", "\n    http2_protocol_options: {}")}`,
      }),
    );
  });

  after(async () => {
    await p?.close();
    await upstream?.close();
    grpc?.close();
  });

  test("unary call: the reply and the OK status reach the plugin, which then resumes the request", async () => {
    const res = await request(`${p.url()}/with-grpc`);
    const body = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(body.headers["x-grpc-reply"], "gnip");
    assert.equal(body.headers["x-grpc-status"], "00");
    assert.deepEqual(seen[0], { path: "/test.Echo/Reverse", authority: "grpc_backend", timeout: "2000m" });
  });
});
