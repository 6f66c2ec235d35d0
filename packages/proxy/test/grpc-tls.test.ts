/**
 * gRPC over TLS: a real @grpc/grpc-js client with TLS credentials → a TLS listener (ALPN h2, so the AUTO
 * codec speaks HTTP/2) with a Wasm filter → a @grpc/grpc-js server over h2c.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { trailersPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { makeCertificates } from "./support/tls.ts";

const bytes = (b: Buffer) => b;
const SERVICE = {
  say: {
    path: "/test.Echo/Say",
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
} as const;
const EchoClient = grpc.makeGenericClientConstructor(SERVICE, "Echo");
type Echo = grpc.Client & {
  say(req: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): grpc.ClientUnaryCall;
};

describe("gRPC over a TLS listener", { timeout: 30_000 }, () => {
  let server: grpc.Server;
  let proxy: RunningTestProxy;
  let client: Echo;
  const cert = makeCertificates("grpc.test");
  const plugins = writePlugins({ trailers: trailersPluginWat() });

  before(async () => {
    server = new grpc.Server();
    server.addService(SERVICE, {
      say: (
        call: grpc.ServerUnaryCall<Buffer, Buffer>,
        cb: (err: grpc.ServerErrorResponse | null, value?: Buffer, trailer?: grpc.Metadata) => void,
      ) => {
        const trailer = new grpc.Metadata();
        trailer.set("x-server-trailer", "unary");
        const seen = String(call.metadata.get("x-seen-protocol")[0] ?? "");
        cb(null, Buffer.from(`echo:${call.request.toString()}:${seen}`), trailer);
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const tls = `
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            alpn_protocols: [h2]
            tls_certificates:
            - certificate_chain: { filename: ${cert.dir}/server.pem }
              private_key: { filename: ${cert.dir}/server.key }
      filters:`;
    proxy = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.trailers, { name: "trailers" }),
        routes: `
              - match: { prefix: "/" }
                route: { cluster: grpc_backend }`,
        clusters: staticCluster(
          "grpc_backend",
          port,
          "127.0.0.1",
          `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`,
        ),
        admin: false,
        accessLog: false,
      }).replace("\n    - filters:", tls),
    );
    client = new EchoClient(`127.0.0.1:${proxy.port()}`, grpc.credentials.createSsl(Buffer.from(cert.ca)), {
      "grpc.ssl_target_name_override": "grpc.test",
      "grpc.default_authority": "grpc.test",
    }) as unknown as Echo;
  });

  after(async () => {
    client?.close();
    await proxy?.close();
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  });

  test("a unary call over TLS goes through the plugin as HTTP/2 and gets its reply, status and trailers", async () => {
    const result = await new Promise<{
      err: grpc.ServiceError | null;
      res?: Buffer;
      status: grpc.StatusObject;
    }>((resolve) => {
      let done: { err: grpc.ServiceError | null; res?: Buffer } | undefined;
      let status: grpc.StatusObject | undefined;
      const finish = () => done && status && resolve({ ...done, status });
      const call = client.say(Buffer.from("hello"), (err, res) => {
        done = { err, ...(res ? { res } : {}) };
        finish();
      });
      call.on("status", (s: grpc.StatusObject) => {
        status = s;
        finish();
      });
    });
    assert.equal(result.err, null);
    assert.equal(result.res?.toString(), "echo:hello:HTTP/2");
    assert.equal(result.status.code, grpc.status.OK);
    assert.deepEqual(result.status.metadata.get("x-server-trailer"), ["unary"]);
  });
});
