import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import type { ApiEvent } from "../src/api-event.ts";
import { DuckDbStore } from "../src/duckdb-store.ts";
import type { EventStore } from "../src/event-store.ts";
import { type IngestionServer, startIngestion } from "../src/ingestion-server.ts";

/** seed 003's event, exactly as the Rust filter posts it. */
const SEED_EVENT = {
  metadata: {
    context_id: 2,
    timestamp: 1734243897,
    traffic_source_name: "Envoy",
    traffic_source_version: "",
    node_name: "",
  },
  request: {
    headers: {
      ":path": "/",
      "x-request-id": "0f1aad54-23bd-4c1d-91ef-53a3f477976b",
      ":method": "GET",
      ":scheme": "http",
      "user-agent": "HTTPie/3.2.4",
      ":authority": "localhost:10000",
      accept: "*/*",
    },
    body: "",
  },
  response: {
    headers: { ":status": "200", "content-type": "text/plain", "content-length": "14" },
    body: "Namaste world!",
  },
  source: { name: "", namespace: "", ip: "172.19.0.1", port: 60806 },
  destination: { name: "", namespace: "", ip: "172.19.0.2", port: 10000 },
  protocol: "HTTP/1.1",
};

const TOKEN = "s3cret-token";

interface Reply {
  status: number;
  headers: Headers;
  body: { error?: string; accepted?: number; ids?: string[] };
}

async function post(
  url: string,
  body: string | Buffer,
  contentType: string | undefined,
  auth = `Bearer ${TOKEN}`,
  method = "POST",
): Promise<Reply> {
  const headers: Record<string, string> = { authorization: auth };
  if (contentType !== undefined) headers["content-type"] = contentType;
  const res = await fetch(`${url}/api/v1/events`, {
    method,
    headers,
    body: method === "GET" ? undefined : body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reply["body"] };
}

describe("intake", { timeout: 60_000 }, () => {
  let server: IngestionServer;
  before(async () => {
    server = await startIngestion({
      host: "127.0.0.9",
      store: { engine: "duckdb", path: ":memory:" },
      token: TOKEN,
      bodyLimitBytes: 64 * 1024,
      maxEventsPerRequest: 50,
    });
  });
  after(() => server.close());

  test("seed 003's event is accepted as posted and derived fields are filled in", async () => {
    const reply = await post(server.url, JSON.stringify(SEED_EVENT), "application/json");
    assert.equal(reply.status, 202);
    assert.equal(reply.body.accepted, 1);
    const [stored] = await server.store.recentEvents({}, 1);
    assert.equal(stored!.id, reply.body.ids![0]);
    assert.equal(stored!.method, "GET");
    assert.equal(stored!.path, "/");
    assert.equal(stored!.status, 200);
    assert.equal(stored!.service, "localhost");
    assert.equal(stored!.consumer, "172.19.0.1");
    assert.equal(stored!.ts, 1734243897000);
    assert.deepEqual(stored!.responseBody, { encoding: "utf8", data: "Namaste world!" });
    assert.equal(stored!.requestBody, null);
  });

  test("a JSON array and NDJSON are batches", async () => {
    const one = { method: "GET", path: "/users/1", status: 200, latency_ms: 2 };
    const array = await post(server.url, JSON.stringify([one, one, one]), "application/json; charset=utf-8");
    assert.equal(array.status, 202);
    assert.equal(array.body.accepted, 3);
    const ndjson = await post(
      server.url,
      `${JSON.stringify(one)}\n\n${JSON.stringify(one)}\n`,
      "application/x-ndjson",
    );
    assert.equal(ndjson.status, 202);
    assert.equal(ndjson.body.accepted, 2);
    const ids = new Set([...array.body.ids!, ...ndjson.body.ids!]);
    assert.equal(ids.size, 5);
    const stored = await server.store.recentEvents({}, 1000);
    for (const id of ids)
      assert.ok(
        stored.some((e) => e.id === id),
        `event ${id} stored`,
      );
  });

  test("binary bodies in body_base64 round-trip; sensitive headers are never stored", async () => {
    const bytes = Buffer.from([0, 255, 1, 254]);
    const reply = await post(
      server.url,
      JSON.stringify({
        method: "POST",
        path: "/upload",
        status: 201,
        request: {
          headers: { Authorization: "Bearer abc", cookie: "sid=1", "x-trace": "t" },
          body_base64: bytes.toString("base64"),
        },
        response: { headers: { "set-cookie": "sid=2" } },
      }),
      "application/json",
    );
    assert.equal(reply.status, 202);
    const [stored] = (await server.store.recentEvents({}, 100)).filter((e) => e.id === reply.body.ids![0]);
    assert.deepEqual(stored!.requestBody, { encoding: "base64", data: bytes.toString("base64") });
    assert.equal(stored!.requestHeaders.authorization, "[masked]");
    assert.equal(stored!.requestHeaders.cookie, "[masked]");
    assert.equal(stored!.requestHeaders["x-trace"], "t");
    assert.equal(stored!.responseHeaders["set-cookie"], "[masked]");
  });

  const bad: [string, string | Buffer, string | undefined, number, RegExp][] = [
    ["broken JSON", '{"method": "GET",', "application/json", 400, /not valid JSON/],
    ["empty body", "", "application/json", 400, /body is empty/],
    ["empty array", "[]", "application/json", 400, /array is empty/],
    ["not an object", "42", "application/json", 400, /event: expected a JSON object, got number 42/],
    ["no method", '{"path": "/x"}', "application/json", 400, /method is missing/],
    ["no path", '{"method": "GET"}', "application/json", 400, /path is missing/],
    ["relative path", '{"method": "GET", "path": "x"}', "application/json", 400, /must start with "\/"/],
    ["bad method", '{"method": "GE T", "path": "/"}', "application/json", 400, /not an HTTP method token/],
    [
      "status out of range",
      '{"method": "GET", "path": "/", "status": 1000}',
      "application/json",
      400,
      /status: expected an integer from 0 to 999/,
    ],
    [
      "negative latency",
      '{"method": "GET", "path": "/", "latency_ms": -1}',
      "application/json",
      400,
      /latency_ms: expected a number >= 0/,
    ],
    [
      "port as string",
      '{"method": "GET", "path": "/", "source": {"port": "80"}}',
      "application/json",
      400,
      /source\.port: expected an integer/,
    ],
    [
      "bad source ip",
      '{"method": "GET", "path": "/", "source": {"ip": "999.1.1.1"}}',
      "application/json",
      400,
      /source\.ip: "999\.1\.1\.1" is not an IP address/,
    ],
    [
      "header value not a string",
      '{"method": "GET", "path": "/", "request": {"headers": {"x": 1}}}',
      "application/json",
      400,
      /request\.headers\["x"\]: expected a string value/,
    ],
    [
      "body and body_base64",
      '{"method": "GET", "path": "/", "request": {"body": "a", "body_base64": "YQ=="}}',
      "application/json",
      400,
      /not both/,
    ],
    [
      "bad base64",
      '{"method": "GET", "path": "/", "response": {"body_base64": "***"}}',
      "application/json",
      400,
      /body_base64: not valid base64/,
    ],
    [
      "unknown field",
      '{"method": "GET", "path": "/", "colour": "red"}',
      "application/json",
      400,
      /unknown field "colour"/,
    ],
    [
      "bad event in a batch",
      '[{"method": "GET", "path": "/"}, {"method": "GET"}]',
      "application/json",
      400,
      /event 1: path is missing/,
    ],
    [
      "bad NDJSON line",
      '{"method": "GET", "path": "/"}\n{oops}\n',
      "application/x-ndjson",
      400,
      /line 2 is not valid JSON/,
    ],
    ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0x7d]), "application/json", 400, /not valid UTF-8/],
    [
      "too many events",
      JSON.stringify(Array.from({ length: 51 }, () => ({ method: "GET", path: "/" }))),
      "application/json",
      413,
      /more than 50 events/,
    ],
    [
      "over the size limit",
      JSON.stringify({ method: "GET", path: "/", request: { body: "x".repeat(70_000) } }),
      "application/json",
      413,
      /over the limit of 65536 bytes/,
    ],
    [
      "text/plain",
      '{"method": "GET", "path": "/"}',
      "text/plain",
      415,
      /content type "text\/plain" is not accepted/,
    ],
    ["no content type", '{"method": "GET", "path": "/"}', undefined, 415, /is not accepted/],
    [
      "latin-1 charset",
      '{"method": "GET", "path": "/"}',
      "application/json; charset=iso-8859-1",
      415,
      /charset iso-8859-1/,
    ],
  ];
  for (const [name, body, type, status, reason] of bad) {
    test(`bad input gets ${status}: ${name}`, async () => {
      const before = await server.store.count({});
      const reply = await post(server.url, body, type);
      assert.equal(reply.status, status);
      assert.match(reply.body.error ?? "", reason);
      assert.equal(await server.store.count({}), before, "nothing stored from a refused request");
    });
  }

  test("415 for a compressed body", async () => {
    const res = await fetch(`${server.url}/api/v1/events`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${TOKEN}`,
        "content-type": "application/json",
        "content-encoding": "gzip",
      },
      body: gzipSync(JSON.stringify(SEED_EVENT)),
    });
    assert.equal(res.status, 415);
    assert.match(((await res.json()) as { error: string }).error, /content encoding "gzip"/);
  });

  test("401 without the bearer token, or with a wrong one", async () => {
    for (const auth of ["", "Bearer wrong", `Basic ${TOKEN}`]) {
      const reply = await post(server.url, JSON.stringify(SEED_EVENT), "application/json", auth);
      assert.equal(reply.status, 401);
      assert.match(reply.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.match(reply.body.error ?? "", /bearer token/);
    }
  });

  test("405 with Allow: POST for other methods", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const reply = await post(server.url, "{}", "application/json", `Bearer ${TOKEN}`, method);
      assert.equal(reply.status, 405);
      assert.equal(reply.headers.get("allow"), "POST");
    }
  });

  test("GET /api/v1/events/:id returns one whole event; bad and unknown ids are told apart", async () => {
    const reply = await post(server.url, JSON.stringify(SEED_EVENT), "application/json");
    const id = reply.body.ids![0]!;
    const found = await fetch(`${server.url}/api/v1/events/${id}`);
    assert.equal(found.status, 200);
    const { event } = (await found.json()) as { event: { id: string; responseBody: unknown } };
    assert.equal(event.id, id);
    assert.deepEqual(event.responseBody, { encoding: "utf8", data: "Namaste world!" });
    const missing = await fetch(`${server.url}/api/v1/events/00000000-0000-0000-0000-000000000000`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
    const bad = await fetch(`${server.url}/api/v1/events/x'or'1`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /must be a UUID/);
  });

  test("query parameters are checked", async () => {
    for (const [q, reason] of [
      ["status=banana", /status must be/],
      ["from=yesterday", /from must be/],
      ["limit=0", /limit must be/],
    ] as const) {
      const res = await fetch(`${server.url}/api/v1/events/recent?${q}`);
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, reason);
    }
  });

  test("a NUL byte in a query parameter gets 400 naming the parameter, on every query endpoint", async () => {
    for (const [path, name] of [
      ["/api/v1/events/recent?service=a%00b", "service"],
      ["/api/v1/apis?service=%00", "service"],
      ["/api/v1/graph?service=shop%00", "service"],
      ["/api/v1/events/recent?from=1%00", "from"],
      ["/api/v1/apis?to=2024-01-01%00", "to"],
      ["/api/v1/events/recent?status=5xx%00", "status"],
      ["/api/v1/events/recent?limit=1%00", "limit"],
    ] as const) {
      const res = await fetch(`${server.url}${path}`);
      const { error } = (await res.json()) as { error: string };
      assert.equal(res.status, 400, `${path}: ${error}`);
      assert.equal(error, `${name} must not contain a NUL byte (%00)`, path);
    }
  });
});

/** A store whose writes wait until released, to hold events pending. */
class GatedStore {
  private gate: Promise<void>;
  private open!: () => void;
  constructor(private readonly inner: EventStore) {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }
  release(): void {
    this.open();
  }
  asStore(): EventStore {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
        if (prop === "append") {
          return async (events: readonly ApiEvent[]) => {
            await this.gate;
            return target.append(events);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
  }
}

function rawPost(url: string, body: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/events`,
      { method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

test("overload: 503 with Retry-After when the write queue is full, 429 when too many requests are open", {
  timeout: 60_000,
}, async () => {
  const duck = await DuckDbStore.open({ path: ":memory:" });
  const gated = new GatedStore(duck);
  const server = await startIngestion({
    host: "127.0.0.10",
    store: { store: gated.asStore() },
    maxPendingEvents: 10,
    maxConcurrentIntake: 4,
  });
  try {
    const event = JSON.stringify([
      { method: "GET", path: "/a" },
      { method: "GET", path: "/b" },
      { method: "GET", path: "/c" },
    ]);
    // Three requests of 3 events fit in a queue of 10; the store is held, so they stay pending (and open).
    const held = [rawPost(server.url, event), rawPost(server.url, event), rawPost(server.url, event)];
    const waitPending = async (n: number) => {
      while (
        ((await (await fetch(`${server.url}/healthz`)).json()) as { pendingEvents: number }).pendingEvents < n
      ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await waitPending(9);
    const full = await rawPost(server.url, event);
    assert.equal(full.status, 503);
    assert.equal(full.retryAfter, "1");
    // The refused request has closed: 3 are open. One more makes 4, the limit; the fifth is refused with 429.
    const fourth = rawPost(server.url, JSON.stringify({ method: "GET", path: "/d" }));
    await waitPending(10);
    const tooMany = await rawPost(server.url, JSON.stringify({ method: "GET", path: "/e" }));
    assert.equal(tooMany.status, 429);
    assert.equal(tooMany.retryAfter, "1");
    gated.release();
    const results = await Promise.all([...held, fourth]);
    assert.deepEqual(
      results.map((r) => r.status),
      [202, 202, 202, 202],
    );
    assert.equal(await duck.count({}), 10, "exactly the acknowledged events are stored");
  } finally {
    gated.release();
    await server.close();
    await duck.close();
  }
});
