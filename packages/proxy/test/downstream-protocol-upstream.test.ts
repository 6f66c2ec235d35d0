/**
 * `use_downstream_protocol_config`: a request goes upstream in the protocol it came in (cluster_info_impl.cc
 * ClusterInfoImpl::upstreamHttpProtocol), so one cluster serves REST clients over HTTP/1.1 and gRPC clients
 * over HTTP/2, as seed 003's api-observer setup needs.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  connect as connectH2,
  createServer as createH2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from "node:http2";
import { createServer as createNetServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import { parseBootstrapText } from "@proxy-wasm-ts/proxy";
import { httpBootstrap, staticCluster } from "@proxy-wasm-ts/test-support/envoy-config";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";

const FOLLOW_DOWNSTREAM = `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} }`;

/** Answers with the HTTP version the request came in. */
function answer(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  res.setHeader("content-type", "text/plain");
  res.end(`upstream saw HTTP/${req.httpVersion}`);
}

/**
 * One port for both protocols: a connection starting with the HTTP/2 preface goes to an h2c server, anything
 * else to an HTTP/1.1 server (node's h2c server alone refuses HTTP/1.1).
 */
function dualProtocolUpstream(): Server {
  const h1 = createHttpServer(answer);
  const h2 = createH2Server(answer);
  return createNetServer((socket) => {
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      // As the data plane's own AUTO codec does: node:http2 takes the paused socket, node:http resumes it.
      if (first.subarray(0, 3).toString() === "PRI") h2.emit("connection", socket);
      else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  });
}

describe("use_downstream_protocol_config", { timeout: 30_000 }, () => {
  const upstream = dualProtocolUpstream();
  let p: RunningTestProxy;

  before(async () => {
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const port = (upstream.address() as { port: number }).port;
    p = await startTestProxy(
      httpBootstrap({
        routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
        clusters: staticCluster("backend", port, "127.0.0.1", FOLLOW_DOWNSTREAM),
      }),
    );
  });

  after(async () => {
    await p?.close();
    await new Promise((r) => upstream.close(r));
  });

  test("an HTTP/1.1 request goes upstream over HTTP/1.1", async () => {
    const res = await request(`${p.url()}/rest`);
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), "upstream saw HTTP/1.1");
  });

  test("an HTTP/2 request goes upstream over HTTP/2", async () => {
    const session = connectH2(p.url());
    try {
      const stream = session.request({ ":path": "/grpc-like" });
      let text = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        text += chunk;
      });
      const headers = await new Promise<Record<string, unknown>>((resolve) => stream.on("response", resolve));
      await new Promise((r) => stream.on("end", r));
      assert.equal(headers[":status"], 200);
      assert.equal(text, "upstream saw HTTP/2.0");
    } finally {
      session.close();
    }
  });

  test("the config reader takes its options and refuses HTTP/3 by name", () => {
    const yaml = (options: string) =>
      httpBootstrap({
        routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
        clusters: staticCluster(
          "backend",
          8080,
          "127.0.0.1",
          FOLLOW_DOWNSTREAM.replace("{ http_protocol_options: {}, http2_protocol_options: {} }", options),
        ),
      });
    const cluster = parseBootstrapText(yaml("{ http_protocol_options: {} }"), "t.yaml", "/").clusters[0]!;
    assert.deepEqual([cluster.useDownstreamProtocol, cluster.http2], [true, false]);
    assert.throws(
      () => parseBootstrapText(yaml("{ http3_protocol_options: {} }"), "t.yaml", "/"),
      /use_downstream_protocol_config\.http3_protocol_options: unknown or unsupported field/,
    );
  });
});
