/**
 * gRPC calls observed end to end: a real @grpc/grpc-js client → the shipped envoy.yaml on the local data plane
 * (HTTP/2 downstream, the api-observer filter) → a @grpc/grpc-js server, and the events as the ingestion service
 * stores them: route `/package.Service/Method`, grpc-status/grpc-message from the trailers (or from the headers of
 * a trailers-only response), HTTP status 200, the length-prefixed frames as base64.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { type ApiEvent, type IngestionServer, startIngestion } from "@proxy-wasm-ts/ingestion";
import {
  type InProcessDataPlane,
  startInProcessDataPlane,
} from "../../test-support/in-process-data-plane.ts";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
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

/**
 * The shipped envoy.yaml with its `backend` cluster speaking HTTP/2 upstream, as a gRPC backend needs; the
 * rest (listener, filter, plugin configuration) unchanged. Written to a directory whose build/ is the plugin's.
 */
async function grpcPluginDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "api-observer-grpc-"));
  const shipped = await readFile(join(pluginDir, "envoy.yaml"), "utf8");
  // The cluster, not the virtual host of the same name: the first `- name: backend` after `clusters:`.
  const clusters = shipped.indexOf("\n  clusters:\n");
  const clusterLine = /^( *)- name: backend\n/m;
  const match = clusterLine.exec(shipped.slice(clusters));
  assert.ok(clusters >= 0 && match, "envoy.yaml has a cluster named backend");
  const indent = `${match[1]}  `;
  const h2 = [
    "typed_extension_protocol_options:",
    "  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:",
    '    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    "    explicit_http_config: { http2_protocol_options: {} }",
  ].map((line) => `${indent}${line}\n`);
  await writeFile(
    join(dir, "envoy.yaml"),
    shipped.slice(0, clusters) + shipped.slice(clusters).replace(clusterLine, (line) => line + h2.join("")),
  );
  await symlink(join(pluginDir, "build"), join(dir, "build"));
  return dir;
}

describe("api-observer on gRPC calls through the local data plane", { timeout: 120_000 }, () => {
  let server: grpc.Server;
  let ingestion: IngestionServer;
  let envoy: InProcessDataPlane;
  let client: Greeter;
  let configDir: string;

  before(async () => {
    await buildPlugin(pluginDir);
    server = new grpc.Server();
    server.addService(GREETER, {
      hello: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, Buffer.from(`hello ${call.request.toString()}`)),
      missing: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb({ code: grpc.status.NOT_FOUND, details: "no such greeting" }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    ingestion = await startIngestion({ host: "127.0.0.1", store: { engine: "duckdb", path: ":memory:" } });
    configDir = await grpcPluginDir();
    envoy = await startInProcessDataPlane(configDir, {
      backend: { host: "127.0.0.1", port },
      "ingestion-service": { host: "127.0.0.1", port: ingestion.port },
    });
    const { host, port: listenerPort } = envoy.listener();
    client = new GreeterClient(
      `${host}:${listenerPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as Greeter;
  });

  after(async () => {
    client?.close();
    await envoy?.close();
    server?.forceShutdown();
    await ingestion?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  test("a unary call and a failing one arrive with route, grpc-status and base64 frames", async () => {
    const ok = await call(client, "hello", "ann");
    assert.equal(ok.err, null);
    assert.equal(ok.response?.toString(), "hello ann");
    const failed = await call(client, "missing", "bob");
    assert.equal(failed.err?.code, grpc.status.NOT_FOUND);

    const events = await eventually(
      async () => {
        const stored = await ingestion.store.recentEvents({}, 10);
        return stored.length >= 2 ? stored : undefined;
      },
      () => "gave up waiting for two stored events",
      EVENTUALLY_MS,
    );
    const hello = events.find((e: ApiEvent) => e.path === "/demo.Greeter/Hello");
    assert.ok(hello, "the Hello call was recorded");
    assert.equal(hello.route, "/demo.Greeter/Hello");
    assert.equal(hello.method, "POST");
    assert.equal(hello.status, 200);
    assert.equal(hello.protocol, "HTTP/2");
    assert.equal(hello.responseHeaders["grpc-status"], "0");
    // "ann" and "hello ann" are valid UTF-8, yet a gRPC body is frames: base64, prefix included.
    assert.deepEqual(hello.requestBody, { encoding: "base64", data: frame("ann") });
    assert.deepEqual(hello.responseBody, { encoding: "base64", data: frame("hello ann") });

    const missing = events.find((e: ApiEvent) => e.path === "/demo.Greeter/Missing");
    assert.ok(missing, "the Missing call was recorded");
    assert.equal(missing.route, "/demo.Greeter/Missing");
    assert.equal(missing.status, 200);
    assert.equal(missing.responseHeaders["grpc-status"], String(grpc.status.NOT_FOUND));
    // grpc-message travels percent-encoded (gRPC over HTTP/2); the event keeps the header as it was sent.
    assert.equal(missing.responseHeaders["grpc-message"], "no%20such%20greeting");
    assert.deepEqual(missing.requestBody, { encoding: "base64", data: frame("bob") });
    assert.equal(missing.responseBody, null);
  });
});
