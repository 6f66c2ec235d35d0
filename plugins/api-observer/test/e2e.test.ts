import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type EchoServer, startEcho } from "@proxy-wasm-ts/echo";
import { type ApiEvent, type IngestionServer, startIngestion } from "@proxy-wasm-ts/ingestion";
import { type HttpAnswer, sendRequest } from "../../test-support/http-client.ts";
import {
  type InProcessDataPlane,
  startInProcessDataPlane,
} from "../../test-support/in-process-data-plane.ts";
import { buildPlugin, pluginDirOf } from "../../test-support/plugin-build.ts";
import { eventually } from "../../test-support/waiting.ts";

const pluginDir = pluginDirOf(import.meta.url);
let backend: EchoServer;
let ingestion: IngestionServer;
let envoy: InProcessDataPlane;

/** One request through the proxy's listener; the body goes out in the given chunks. */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  chunks: string[] = [],
): Promise<HttpAnswer> {
  return sendRequest(envoy.url(path), { method, headers, body: chunks });
}

/** The plugin flushes on its 1 s tick; 30 s only bounds a hang and is no timing assertion. */
const EVENTUALLY_MS = 30_000;

async function droppedEvents(): Promise<number> {
  const admin = envoy.proxy.admin!;
  const text = await (await fetch(`http://${admin.host}:${admin.port}/stats/prometheus`)).text();
  return Number(/^api_observer_events_dropped_total\{\} (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

describe("api-observer envoy.yaml on the local data plane", { timeout: 120_000 }, () => {
  before(async () => {
    await buildPlugin(pluginDir);
    backend = await startEcho({ host: "127.0.0.1", name: "backend" });
    ingestion = await startIngestion({ host: "127.0.0.1", store: { engine: "duckdb", path: ":memory:" } });
    envoy = await startInProcessDataPlane(pluginDir, {
      backend,
      // No gRPC call here (grpc-e2e.test.ts has them); the echo stands in for the gRPC backend's address.
      "grpc-backend": backend,
      "ingestion-service": { host: "127.0.0.1", port: ingestion.port },
    });
  });

  after(async () => {
    await envoy?.close();
    await Promise.all([backend?.close(), ingestion?.close()]);
  });

  test("calls arrive at the ingestion service, whole and redacted", async () => {
    const answer = await send(
      "POST",
      "/anything/login?user=ann&token=t0k3n",
      {
        host: "api.example.com",
        authorization: "Bearer s3cr3t",
        "x-api-key": "k-123",
        "content-type": "application/json",
      },
      ['{"user":"ann",', '"password":"hunter2",', '"remember":true}'],
    );
    assert.equal(answer.status, 200);
    await send("GET", "/status/404", { host: "api.example.com" });

    const events = await eventually(
      async () => {
        const stored = await ingestion.store.recentEvents({}, 10);
        return stored.length >= 2 ? stored : undefined;
      },
      () => "gave up waiting for two stored events",
      EVENTUALLY_MS,
    );
    const login = events.find((e: ApiEvent) => e.method === "POST");
    assert.ok(login, "the POST was recorded");
    assert.equal(login.status, 200);
    assert.equal(login.path, "/anything/login?user=ann&token=[REDACTED]");
    assert.equal(login.route.startsWith("/anything/login"), true);
    // The service masks authorization again on its own ("[masked]"); what matters is that the secret never arrived.
    assert.notEqual(login.requestHeaders.authorization, "Bearer s3cr3t");
    assert.notEqual(login.requestHeaders["x-api-key"], "k-123");
    assert.deepEqual(login.requestBody, {
      encoding: "utf8",
      data: '{"user":"ann","password":"[REDACTED]","remember":true}',
    });
    // The backend echoed the request, secrets included: the recorded response has them redacted.
    assert.ok(login.responseBody && !login.responseBody.data.includes("hunter2"));
    for (const secret of ["s3cr3t", "k-123", "hunter2", "t0k3n"])
      assert.ok(!JSON.stringify(login).includes(secret), secret);
    assert.equal(login.source.ip, "127.0.0.1");
    assert.equal(login.source.name, "frontend");
    assert.equal(login.source.namespace, "demo");
    assert.equal(login.destination.port, backend.port);
    assert.equal(login.nodeName, "laptop");
    assert.ok(login.latencyMs !== null && login.latencyMs >= 0);
    const notFound = events.find((e: ApiEvent) => e.method === "GET");
    assert.equal(notFound?.status, 404);
    assert.equal(await droppedEvents(), 0);
  });

  test("with the collector down, traffic still flows and dropped events are counted", async () => {
    await ingestion.close();
    for (let i = 0; i < 3; i++) {
      const answer = await send("GET", "/get", { host: "api.example.com" });
      assert.equal(answer.status, 200);
    }
    const dropped = await eventually(
      async () => {
        const n = await droppedEvents();
        return n >= 3 ? n : undefined;
      },
      () => "gave up waiting for dropped events in /stats/prometheus",
      EVENTUALLY_MS,
    );
    assert.equal(dropped, 3);
    // Envoy's async client answers a connect failure with its router's 503 reply, delivered as a response.
    await envoy.waitForOutput(
      /event\(s\) dropped: collector answered HTTP 503: upstream connect error or disconnect\/reset before headers/,
    );
  });
});
