/**
 * gRPC calls observed end to end: a real @grpc/grpc-js client → `pwts run envoy.yaml` (the shipped file,
 * unchanged, on its own addresses: HTTP/2 downstream, the api-observer filter, its `grpc: {}` route to the
 * HTTP/2 `grpc-backend` on 127.0.0.41:8081) → a @grpc/grpc-js server, and the events as the ingestion service stores them: route
 * `/package.Service/Method`, grpc-status/grpc-message from the trailers (or from the headers of a trailers-only
 * response), the service's grpcStatus, HTTP status 200, the length-prefixed frames as base64. A REST call through
 * the same listener still reaches the HTTP/1.1 echo backend.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { type EchoServer, startEcho } from "@proxy-wasm-ts/echo";
import { type ApiEvent, type IngestionServer, startIngestion } from "@proxy-wasm-ts/ingestion";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
import { type PwtsRun, startPwtsRun } from "../../test-support/pwts-run-process.ts";
import { eventually } from "../../test-support/waiting.ts";

const pluginDir = pluginDirOf(import.meta.url);
/** The plugin flushes on its 1 s tick; 30 s only bounds a hang and is no timing assertion. */
const EVENTUALLY_MS = 30_000;

const bytes = (b: Buffer) => b;
function unaryMethod(name: string) {
  return {
    path: `/demo.Greeter/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  };
}
/** `demo.Greeter` with raw-bytes messages (no .proto needed). */
const GREETER = { hello: unaryMethod("Hello"), missing: unaryMethod("Missing") } as const;
const GreeterClient = grpc.makeGenericClientConstructor(GREETER, "Greeter");
type Callback = (err: grpc.ServiceError | null, res?: Buffer) => void;
type Greeter = grpc.Client & {
  hello(req: Buffer, cb: Callback): grpc.ClientUnaryCall;
  missing(req: Buffer, cb: Callback): grpc.ClientUnaryCall;
};

function call(client: Greeter, name: "hello" | "missing", payload: string) {
  return new Promise<{ err: grpc.ServiceError | null; response?: Buffer }>((resolve) => {
    client[name](Buffer.from(payload), (err, response) => resolve({ err, response }));
  });
}

/** A gRPC message as it travels: 1 byte compressed flag, 4 bytes big-endian length, the message. */
function frame(message: string): string {
  const body = Buffer.from(message);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]).toString("base64");
}

describe("api-observer on gRPC calls through the local data plane", { timeout: 120_000 }, () => {
  let server: grpc.Server;
  let ingestion: IngestionServer;
  let envoy: PwtsRun;
  let client: Greeter;
  let echo: EchoServer;

  before(async () => {
    await buildPlugin(pluginDir);
    server = new grpc.Server();
    server.addService(GREETER, {
      hello: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, Buffer.from(`hello ${call.request.toString()}`)),
      missing: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb({ code: grpc.status.NOT_FOUND, details: "no such greeting" }),
    });
    // The addresses envoy.yaml names (plugins/README.md's port plan).
    await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.41:8081", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    echo = await startEcho({ host: "127.0.0.41", port: 8080, name: "backend" });
    ingestion = await startIngestion({
      host: "127.0.0.42",
      port: 8080,
      store: { engine: "duckdb", path: ":memory:" },
    });
    envoy = await startPwtsRun(join(pluginDir, "envoy.yaml"));
    client = new GreeterClient("127.0.0.1:10002", grpc.credentials.createInsecure()) as unknown as Greeter;
  });

  after(async () => {
    client?.close();
    await envoy?.stop();
    server?.forceShutdown();
    await ingestion?.close();
    await echo?.close();
  });

  test("a unary call and a failing one arrive with route, grpc-status and base64 frames", async () => {
    const ok = await call(client, "hello", "ann");
    assert.equal(ok.err, null);
    assert.equal(ok.response?.toString(), "hello ann");
    const failed = await call(client, "missing", "bob");
    assert.equal(failed.err?.code, grpc.status.NOT_FOUND);
    const rest = await fetch("http://127.0.0.1:10002/anything/rest");
    assert.equal(rest.status, 200, "a REST call through the same listener reaches the echo backend");
    await rest.arrayBuffer();

    const events = await eventually(
      async () => {
        const stored = await ingestion.store.recentEvents({}, 10);
        return stored.length >= 3 ? stored : undefined;
      },
      () => "gave up waiting for three stored events",
      EVENTUALLY_MS,
    );
    const hello = events.find((e: ApiEvent) => e.path === "/demo.Greeter/Hello");
    assert.ok(hello, "the Hello call was recorded");
    assert.equal(hello.route, "/demo.Greeter/Hello");
    assert.equal(hello.method, "POST");
    assert.equal(hello.status, 200);
    assert.equal(hello.protocol, "HTTP/2");
    assert.equal(hello.responseHeaders["grpc-status"], "0");
    assert.equal(hello.grpcStatus, 0, "the service keeps the gRPC outcome");
    // "ann" and "hello ann" are valid UTF-8, yet a gRPC body is frames: base64, prefix included.
    assert.deepEqual(hello.requestBody, { encoding: "base64", data: frame("ann") });
    assert.deepEqual(hello.responseBody, { encoding: "base64", data: frame("hello ann") });

    const missing = events.find((e: ApiEvent) => e.path === "/demo.Greeter/Missing");
    assert.ok(missing, "the Missing call was recorded");
    assert.equal(missing.route, "/demo.Greeter/Missing");
    assert.equal(missing.status, 200);
    assert.equal(missing.responseHeaders["grpc-status"], String(grpc.status.NOT_FOUND));
    assert.equal(missing.grpcStatus, grpc.status.NOT_FOUND);
    // grpc-message travels percent-encoded (gRPC over HTTP/2); the event keeps the header as it was sent.
    assert.equal(missing.responseHeaders["grpc-message"], "no%20such%20greeting");
    assert.deepEqual(missing.requestBody, { encoding: "base64", data: frame("bob") });
    assert.equal(missing.responseBody, null);

    const restEvent = events.find((e: ApiEvent) => e.path === "/anything/rest");
    assert.equal(restEvent?.protocol, "HTTP/1.1");
    assert.equal(restEvent?.grpcStatus, null);
    // The inventory counts the failed gRPC call as an error though its HTTP status is 200.
    const inventory = await ingestion.store.inventory({});
    const missingApi = inventory.find((a) => a.route === "/demo.Greeter/Missing");
    assert.deepEqual([missingApi?.calls, missingApi?.errors], [1, 1]);
  });
});
