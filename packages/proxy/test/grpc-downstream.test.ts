/**
 * gRPC end to end: a real @grpc/grpc-js client → the data plane with a Wasm filter → a @grpc/grpc-js server,
 * over h2c both ways; and the plugin's local replies to gRPC requests as trailers-only gRPC responses.
 */
import assert from "node:assert/strict";
import { connect, constants } from "node:http2";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import {
  localReplyPluginWat,
  trailersPluginWat,
  writePlugins,
} from "@proxy-wasm-ts/test-support/proxy-plugins";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { type PwtsProcess, startPwts } from "./support/pwts-process.ts";

const bytes = (b: Buffer) => b;
function method(name: string, responseStream: boolean, requestStream = false) {
  return {
    path: `/test.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  };
}
/** `test.Echo` with raw-bytes messages (no .proto needed). */
const ECHO_SERVICE = {
  say: method("Say", false),
  count: method("Count", true),
  fail: method("Fail", false),
  chat: method("Chat", true, true),
} as const;
const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, "Echo");
type Echo = grpc.Client & {
  say(req: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): grpc.ClientUnaryCall;
  count(req: Buffer): grpc.ClientReadableStream<Buffer>;
  fail(req: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): grpc.ClientUnaryCall;
  chat(): grpc.ClientDuplexStream<Buffer, Buffer>;
};

interface UnaryResult {
  err: grpc.ServiceError | null;
  response: Buffer | undefined;
  status: grpc.StatusObject;
}

function unary(client: Echo, name: "say" | "fail", payload: string): Promise<UnaryResult> {
  return new Promise((resolve) => {
    let result: { err: grpc.ServiceError | null; response: Buffer | undefined } | undefined;
    let status: grpc.StatusObject | undefined;
    const done = () => {
      if (result && status) resolve({ ...result, status });
    };
    const call = client[name](Buffer.from(payload), (err, response) => {
      result = { err, response };
      done();
    });
    call.on("status", (s: grpc.StatusObject) => {
      status = s;
      done();
    });
  });
}

const H2_CLUSTER = `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }`;

describe("gRPC through the data plane", { timeout: 60_000 }, () => {
  let server: grpc.Server;
  let proxy: RunningTestProxy;
  let denyProxy: RunningTestProxy;
  let mappedProxy: RunningTestProxy;
  let pwts: PwtsProcess;
  let failingProxy: RunningTestProxy;
  const clients: grpc.Client[] = [];
  const plugins = writePlugins({
    trailers: trailersPluginWat(),
    deny: localReplyPluginWat(403, "denied by policy: 100% sure", 7),
    mapped: localReplyPluginWat(401, "who are you", -1),
  });

  function client(url: string): Echo {
    const c = new EchoClient(
      url.replace("http://", ""),
      grpc.credentials.createInsecure(),
    ) as unknown as Echo;
    clients.push(c);
    return c;
  }

  before(async () => {
    server = new grpc.Server();
    server.addService(ECHO_SERVICE, {
      say: (
        call: grpc.ServerUnaryCall<Buffer, Buffer>,
        cb: (err: grpc.ServerErrorResponse | null, value?: Buffer, trailer?: grpc.Metadata) => void,
      ) => {
        const trailer = new grpc.Metadata();
        trailer.set("x-server-trailer", "unary");
        const seenBy = String(call.metadata.get("x-seen-protocol")[0] ?? "");
        cb(null, Buffer.from(`echo:${call.request.toString()}:${seenBy}`), trailer);
      },
      count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const n = Number(call.request.toString());
        for (let i = 1; i <= n; i++) call.write(Buffer.from(`item ${i}`));
        const trailer = new grpc.Metadata();
        trailer.set("x-server-trailer", "stream");
        call.end(trailer);
      },
      chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on("data", (b: Buffer) => call.write(Buffer.from(`re: ${b.toString()}`)));
        call.on("end", () => call.end());
      },
      fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: (err: grpc.ServerErrorResponse) => void) => {
        cb({ code: grpc.status.NOT_FOUND, details: "no such thing", name: "", message: "" });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const routes = `
              - match: { prefix: "/" }
                route: { cluster: grpc_backend }`;
    const clusters = staticCluster("grpc_backend", port, "127.0.0.1", H2_CLUSTER);
    proxy = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.trailers, { name: "trailers" }),
        routes,
        clusters,
        accessLogFormat: "%PROTOCOL% %REQ(:PATH)% %RESPONSE_CODE% %RESP(GRPC-STATUS)%\\n",
      }),
    );
    denyProxy = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.deny, { name: "deny" }),
        routes,
        clusters,
        admin: false,
      }),
    );
    pwts = await startPwts(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.trailers, { name: "trailers" }),
        routes,
        clusters,
        accessLogFormat: "%PROTOCOL% %REQ(:PATH)% %RESPONSE_CODE% %RESP(GRPC-STATUS)%\\n",
      }),
      plugins.dir,
    );
    // A route to a cluster nobody listens on, and no route for anything else.
    const deadPort = await new Promise<number>((resolve) => {
      const probe = new grpc.Server();
      probe.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (_e, p) =>
        probe.tryShutdown(() => resolve(p)),
      );
    });
    failingProxy = await startTestProxy(
      httpBootstrap({
        routes: `
              - match: { path: "/test.Echo/Say" }
                route: { cluster: dead }`,
        clusters: staticCluster("dead", deadPort, "127.0.0.1", H2_CLUSTER),
        admin: false,
      }),
    );
    mappedProxy = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(plugins.path.mapped, { name: "mapped" }),
        routes,
        clusters,
        admin: false,
      }),
    );
  });

  after(async () => {
    for (const c of clients) c.close();
    await proxy?.close();
    await denyProxy?.close();
    await mappedProxy?.close();
    await failingProxy?.close();
    const code = await pwts?.stop();
    assert.equal(code, 0, pwts?.stderr.join("\n"));
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  });

  test("a unary call goes through the plugin: reply, OK status and the server's trailers reach the client", async () => {
    const r = await unary(client(proxy.url()), "say", "hello");
    assert.equal(r.err, null);
    assert.equal(r.response?.toString(), "echo:hello:HTTP/2");
    assert.equal(r.status.code, grpc.status.OK);
    assert.deepEqual(r.status.metadata.get("x-server-trailer"), ["unary"]);
    // The plugin saw the response trailers (proxy_on_response_trailers) and added one.
    assert.deepEqual(r.status.metadata.get("x-seen-grpc-status"), ["0"]);
    assert.deepEqual(r.status.metadata.get("x-plugin-response-trailer"), ["resp"]);
  });

  test("pwts run carries a grpc-js call through its Wasm filter and logs it as HTTP/2", async () => {
    const r = await unary(client(`http://127.0.0.1:${pwts.ports.web}`), "say", "via pwts");
    assert.equal(r.err, null);
    assert.equal(r.response?.toString(), "echo:via pwts:HTTP/2");
    assert.deepEqual(r.status.metadata.get("x-plugin-response-trailer"), ["resp"]);
    await pwts.waitFor("stdout", /^HTTP\/2 \/test\.Echo\/Say 200 -$/);
  });

  test("a server-streaming call delivers every message, then the status and trailers", async () => {
    const call = client(proxy.url()).count(Buffer.from("3"));
    const items: string[] = [];
    call.on("data", (b: Buffer) => items.push(b.toString()));
    const status = await new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    assert.deepEqual(items, ["item 1", "item 2", "item 3"]);
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(status.metadata.get("x-server-trailer"), ["stream"]);
    assert.deepEqual(status.metadata.get("x-plugin-response-trailer"), ["resp"]);
  });

  test("a bidirectional stream is full duplex through the data plane: each reply arrives before the next message is sent", async () => {
    const call = client(proxy.url()).chat();
    const replies: string[] = [];
    const next = () =>
      new Promise<string>((resolve) => call.once("data", (b: Buffer) => resolve(b.toString())));
    for (const word of ["one", "two", "three"]) {
      const reply = next();
      call.write(Buffer.from(word));
      replies.push(await reply);
    }
    call.end();
    const status = await new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    assert.deepEqual(replies, ["re: one", "re: two", "re: three"]);
    assert.equal(status.code, grpc.status.OK);
  });

  test("an error status from the server (trailers-only) reaches the client with its message", async () => {
    const r = await unary(client(proxy.url()), "fail", "x");
    assert.equal(r.err?.code, grpc.status.NOT_FOUND);
    assert.equal(r.err?.details, "no such thing");
    await new Promise((res) => setTimeout(res, 50));
    assert.ok(
      proxy.stdout.some((l) => l.startsWith("HTTP/2 /test.Echo/Fail 200 5")),
      proxy.stdout.join(""),
    );
  });

  test("a plugin's local reply to a gRPC request is a trailers-only response with the plugin's grpc_status and the body as grpc-message", async () => {
    const r = await unary(client(denyProxy.url()), "say", "hello");
    assert.equal(r.err?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(r.err?.details, "denied by policy: 100% sure");
    // On the wire: one HEADERS frame that ends the stream, :status 200, Envoy's headers, no content-length.
    const session = connect(denyProxy.url());
    try {
      const frame = await new Promise<{ headers: Record<string, unknown>; endAfterHeaders: boolean }>(
        (resolve, reject) => {
          const s = session.request(
            {
              ":method": "POST",
              ":path": "/test.Echo/Say",
              "content-type": "application/grpc+proto",
              te: "trailers",
            },
            { endStream: true },
          );
          s.on("response", (headers, flags) =>
            resolve({ headers, endAfterHeaders: (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0 }),
          );
          s.on("error", reject);
          s.resume();
        },
      );
      assert.equal(frame.endAfterHeaders, true);
      assert.equal(frame.headers[":status"], 200);
      assert.equal(frame.headers["content-type"], "application/grpc");
      assert.equal(frame.headers["grpc-status"], "7");
      assert.equal(frame.headers["grpc-message"], "denied by policy: 100%25 sure");
      assert.equal(frame.headers["content-length"], undefined);
      assert.equal(frame.headers.server, "envoy");
    } finally {
      session.close();
    }
  });

  test("without a grpc_status the local reply's HTTP status is mapped as Envoy maps it (401 → UNAUTHENTICATED)", async () => {
    const r = await unary(client(mappedProxy.url()), "say", "hello");
    assert.equal(r.err?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(r.err?.details, "who are you");
  });

  test("Envoy's own answers to a gRPC request are gRPC statuses: no route is UNIMPLEMENTED, a refused connection UNAVAILABLE", async () => {
    const c = client(failingProxy.url());
    const noRoute = await unary(c, "fail", "x");
    assert.equal(noRoute.err?.code, grpc.status.UNIMPLEMENTED);
    const refused = await unary(c, "say", "x");
    assert.equal(refused.err?.code, grpc.status.UNAVAILABLE);
    assert.equal(
      refused.err?.details,
      "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
    );
  });

  test("a non-gRPC request still gets the plain local reply", async () => {
    const res = await fetch(`${denyProxy.url()}/plain`);
    assert.equal(res.status, 403);
    assert.equal(await res.text(), "denied by policy: 100% sure");
    assert.equal(res.headers.get("grpc-status"), null);
  });
});
