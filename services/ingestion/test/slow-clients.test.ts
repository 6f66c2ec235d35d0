import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type IngestionOptions, type IngestionServer, startIngestion } from "../src/ingestion-server.ts";

const TOKEN = "slow-clients-token";
const EVENT = JSON.stringify({ method: "GET", path: "/users/7", status: 200, latency_ms: 1 });

/** A raw connection that records what the server answers and when it closes. */
interface RawClient {
  socket: Socket;
  answer: string;
  closedAt: number | undefined;
}

async function openRaw(server: IngestionServer, head: string): Promise<RawClient> {
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  const client: RawClient = { socket, answer: "", closedAt: undefined };
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    client.answer += chunk;
  });
  socket.on("error", () => {}); // a reset after the server's answer is expected
  socket.on("close", () => {
    client.closedAt = Date.now();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(head);
  return client;
}

function intakeHead(server: IngestionServer, contentLength: number): string {
  return `POST /api/v1/events HTTP/1.1\r\nhost: ${new URL(server.url).host}\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: ${contentLength}\r\n\r\n`;
}

async function postEvent(server: IngestionServer, body = EVENT): Promise<{ status: number; error?: string }> {
  const res = await fetch(`${server.url}/api/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body,
  });
  const reply = (await res.json()) as { error?: string };
  return { status: res.status, error: reply.error };
}

async function until(
  what: string,
  deadlineMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("64 clients trickling their bodies a byte a second do not keep other clients from getting 202, and are cut off with 408 at the request timeout", {
  timeout: 30_000,
}, async () => {
  const server = await startIngestion({
    host: "127.0.0.15",
    store: { engine: "duckdb", path: ":memory:" },
    token: TOKEN,
    headersTimeoutMs: 1000,
    requestTimeoutMs: 2500,
  });
  const slow: RawClient[] = [];
  let trickle: NodeJS.Timeout | undefined;
  try {
    const startedAt = Date.now();
    for (let i = 0; i < 64; i++) slow.push(await openRaw(server, intakeHead(server, 1000)));
    trickle = setInterval(() => {
      for (const client of slow) if (!client.socket.destroyed) client.socket.write(" ");
    }, 1000);
    await sleep(200); // every slow request's headers are in: the old limit counted them from here on

    // Real clients, while the slow ones still hold their connections (well before the 2.5 s timeout).
    const statuses: number[] = [];
    while (Date.now() - startedAt < 1500) {
      const replies = await Promise.all([postEvent(server), postEvent(server), postEvent(server)]);
      for (const reply of replies) {
        assert.equal(reply.status, 202, `a real client got ${reply.status}: ${reply.error}`);
        statuses.push(reply.status);
      }
    }
    assert.ok(statuses.length >= 6, `only ${statuses.length} real requests were made`);
    assert.ok(
      slow.every((client) => client.closedAt === undefined),
      "the slow clients were still connected while the real ones were served",
    );

    // The request timeout (2.5 s from the first byte) cuts every slow client off with a 408 naming the limits.
    await until("every slow client to be cut off", 4000, () => slow.every((c) => c.closedAt !== undefined));
    for (const client of slow) {
      assert.match(client.answer, /^HTTP\/1\.1 408 /);
      assert.match(client.answer, /whole request within 2500 ms/);
      assert.ok(client.closedAt! - startedAt >= 2000, "not cut off before the request timeout");
    }
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as Record<string, number>;
    assert.equal(health.intakeReceivingBytes, 0, "the cut-off bodies hold no bytes");
    assert.equal(health.intakeInProgress, 0);
  } finally {
    clearInterval(trickle);
    for (const client of slow) client.socket.destroy();
    await server.close();
  }
});

test("a client that never finishes its headers is cut off with 408 at the header timeout", {
  timeout: 15_000,
}, async () => {
  const server = await startIngestion({
    host: "127.0.0.16",
    store: { engine: "duckdb", path: ":memory:" },
    headersTimeoutMs: 800,
    requestTimeoutMs: 5000,
  });
  let trickle: NodeJS.Timeout | undefined;
  let client: RawClient | undefined;
  try {
    const startedAt = Date.now();
    client = await openRaw(server, `POST /api/v1/events HTTP/1.1\r\nhost: ${new URL(server.url).host}\r\n`);
    const open = client;
    trickle = setInterval(() => {
      if (!open.socket.destroyed) open.socket.write("x-slow: a\r\n");
    }, 200);
    await until("the slow client to be cut off", 3000, () => open.closedAt !== undefined);
    assert.match(open.answer, /^HTTP\/1\.1 408 /);
    assert.match(open.answer, /headers must arrive within 800 ms/);
    assert.ok(open.closedAt! - startedAt >= 700, "not cut off before the header timeout");
  } finally {
    clearInterval(trickle);
    client?.socket.destroy();
    await server.close();
  }
});

test("bodies still arriving share a byte budget: past it a request gets 429, and a client that goes away frees its bytes", {
  timeout: 15_000,
}, async () => {
  const server = await startIngestion({
    host: "127.0.0.17",
    store: { engine: "duckdb", path: ":memory:" },
    token: TOKEN,
    bodyLimitBytes: 1000,
    maxReceivingBodyBytes: 1000,
  });
  let held: RawClient | undefined;
  const receiving = async () =>
    ((await (await fetch(`${server.url}/healthz`)).json()) as { intakeReceivingBytes: number })
      .intakeReceivingBytes;
  try {
    // 800 of 900 announced bytes arrive, then nothing: the request holds 800 bytes of the budget.
    held = await openRaw(server, `${intakeHead(server, 900)}[${" ".repeat(799)}`);
    await until("800 bytes held", 3000, async () => (await receiving()) === 800);
    const body = `[${Array.from({ length: 4 }, () => EVENT).join(",")}]`; // about 300 bytes
    const refused = await postEvent(server, body);
    assert.equal(refused.status, 429);
    assert.match(refused.error ?? "", /more than 1000 bytes of intake bodies are being received at once/);
    held.socket.destroy();
    await until("the held bytes to be freed", 3000, async () => (await receiving()) === 0);
    assert.equal((await postEvent(server, body)).status, 202);
  } finally {
    held?.socket.destroy();
    await server.close();
  }
});

test("timeout and budget options are checked and named", async () => {
  const refused = async (options: Partial<IngestionOptions>, reason: RegExp) => {
    const started = await startIngestion({
      host: "127.0.0.18",
      store: { engine: "duckdb", path: ":memory:" },
      ...options,
    }).catch((error: Error) => error);
    if (!(started instanceof Error)) {
      await started.close();
      assert.fail(`started with ${JSON.stringify(options)}`);
    }
    assert.match(started.message, reason);
  };
  await refused(
    { headersTimeoutMs: 5000, requestTimeoutMs: 1000 },
    /headersTimeoutMs \(5000\) must not be more than requestTimeoutMs \(1000\)/,
  );
  await refused({ requestTimeoutMs: 0 }, /requestTimeoutMs must be a whole number >= 1, got 0/);
  await refused(
    { bodyLimitBytes: 2000, maxReceivingBodyBytes: 1000 },
    /maxReceivingBodyBytes \(1000\) must be at least bodyLimitBytes \(2000\)/,
  );
});
