import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type EchoServer, startEcho } from "@proxy-wasm-ts/echo";
import { type ApiEvent, type IngestionServer, startIngestion } from "@proxy-wasm-ts/ingestion";
import {
  type Endpoint,
  type LocalEnvoy,
  startLocalEnvoy,
} from "../../tcp-routing/test/support/local-envoy.ts";
import { buildPlugin } from "../../test-support/plugin-build.ts";

const pluginDir = fileURLToPath(new URL("..", import.meta.url));
let backend: EchoServer;
let ingestion: IngestionServer;
let envoy: LocalEnvoy;

interface Answer {
  status: number;
  body: string;
}

/** One request through the proxy; the body goes out in the given chunks. */
function send(
  target: Endpoint,
  method: string,
  path: string,
  headers: Record<string, string>,
  chunks: string[] = [],
) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: target.host, port: target.port, method, path, headers, timeout: 10_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** Polls `probe` until it returns a value (the plugin flushes on its 1 s tick); gives up after 30 s (a hang bound, not a timing assertion). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

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
    envoy = await startLocalEnvoy(pluginDir, {
      backend,
      "ingestion-service": { host: "127.0.0.1", port: ingestion.port },
    });
  });

  after(async () => {
    await envoy?.close();
    await Promise.all([backend?.close(), ingestion?.close()]);
  });

  test("calls arrive at the ingestion service, whole and redacted", async () => {
    const answer = await send(
      envoy.listener(),
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
    await send(envoy.listener(), "GET", "/status/404", { host: "api.example.com" });

    const events = await eventually("two stored events", async () => {
      const stored = await ingestion.store.recentEvents({}, 10);
      return stored.length >= 2 ? stored : undefined;
    });
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
      const answer = await send(envoy.listener(), "GET", "/get", { host: "api.example.com" });
      assert.equal(answer.status, 200);
    }
    const dropped = await eventually("dropped events in /stats/prometheus", async () => {
      const n = await droppedEvents();
      return n >= 3 ? n : undefined;
    });
    assert.equal(dropped, 3);
    await envoy.waitForOutput(/event\(s\) dropped: collector did not answer/);
  });
});
