import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "@clickhouse/client";
import { DuckDBInstance } from "@duckdb/node-api";
import { type ApiEvent, normalizeEvent } from "../src/api-event.ts";
import { type ClickHouseServerProcess, startClickHouseServer } from "../src/clickhouse-server-process.ts";
import { ClickHouseStore } from "../src/clickhouse-store.ts";
import { DuckDbStore } from "../src/duckdb-store.ts";
import { EVENT_COLUMNS } from "../src/event-columns.ts";
import type { EventFilter, EventStore, InventoryEntry } from "../src/event-store.ts";
import { EVENTS_TABLE } from "../src/query-sql.ts";
import { sampleEvents } from "./support/sample-events.ts";

const START = Date.UTC(2026, 10, 20, 12, 0, 0);
const hostile = {
  service: "it's\\ 'x'",
  method: "GET",
  path: "/a'b",
  status: 200,
  latency_ms: 1.5,
  timestamp_ms: START + 5,
};
/** Groups whose sizes put n * p on an integer (20: p95, 100: p99, even: p50), where rank rules differ. */
const rankChecks = [1, 2, 7, 20, 100, 200].flatMap((n) =>
  Array.from({ length: n }, (_, i) => ({
    service: `rank-${n}`,
    method: "GET",
    path: "/r",
    status: 200,
    latency_ms: ((i * 37) % n) + 1,
    timestamp_ms: START + i,
  })),
);
/** Bodies longer than a listing carries, with characters outside the BMP so cutting by code point matters. */
const longBodies = {
  service: "long-bodies",
  method: "POST",
  path: "/upload",
  status: 200,
  timestamp_ms: START + 4_000_000,
  request: { body: "é😀x".repeat(6_000) },
  response: { body_base64: Buffer.alloc(20_000, 7).toString("base64") },
};
/** gRPC calls as the api-observer records them: HTTP 200, the outcome in grpc-status (0 OK, 5 NOT_FOUND). */
const grpcCalls = [0, 5, 0, 14].map((code, i) => ({
  service: "greeter",
  method: "POST",
  path: "/demo.Greeter/Hello",
  status: 200,
  timestamp_ms: START + 100 + i,
  response: { headers: { ":status": "200", "grpc-status": String(code) } },
}));
const events: ApiEvent[] = [
  ...sampleEvents(3000, { start: START }),
  hostile,
  hostile,
  ...rankChecks,
  longBodies,
  ...grpcCalls,
].map((e, i) => normalizeEvent(e, `event ${i}`, { now: START }));

const FILTERS: [string, EventFilter][] = [
  ["everything", {}],
  ["first half hour", { from: START, to: START + 1_800_000 }],
  ["one service", { service: "orders" }],
  ["errors", { status: "error" }],
  ["5xx of payments", { status: "5xx", service: "payments" }],
  ["exact 404", { status: 404 }],
  ["service with a quote", { service: "it's\\ 'x'" }],
  ["empty window", { from: START - 10, to: START - 5 }],
  ["rank check, 20 events", { service: "rank-20" }],
];

/** The inventory computed in plain JS: the reference both engines must match. */
function referenceInventory(all: ApiEvent[], filter: EventFilter): InventoryEntry[] {
  const groups = new Map<string, ApiEvent[]>();
  for (const e of all) {
    if (filter.from !== undefined && e.ts < filter.from) continue;
    if (filter.to !== undefined && e.ts >= filter.to) continue;
    if (filter.service !== undefined && e.service !== filter.service) continue;
    const isError = e.status >= 400 || e.status === 0 || (e.grpcStatus ?? 0) > 0;
    if (filter.status === "error" && !isError) continue;
    if (typeof filter.status === "number" && e.status !== filter.status) continue;
    if (
      typeof filter.status === "string" &&
      filter.status !== "error" &&
      Math.floor(e.status / 100) !== Number(filter.status[0])
    )
      continue;
    const key = JSON.stringify([e.service, e.method, e.route]);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const rank = (sorted: number[], pct: number) =>
    sorted.length ? sorted[Math.floor((sorted.length * pct + 99) / 100) - 1]! : null;
  return [...groups.values()]
    .map((g) => {
      const lat = g.flatMap((e) => (e.latencyMs === null ? [] : [e.latencyMs])).sort((a, b) => a - b);
      const errors = g.filter((e) => e.status >= 400 || e.status === 0 || (e.grpcStatus ?? 0) > 0).length;
      const consumers = [...new Set(g.map((e) => e.consumer))].sort();
      return {
        service: g[0]!.service,
        method: g[0]!.method,
        route: g[0]!.route,
        calls: g.length,
        errors,
        errorRate: errors / g.length,
        p50: rank(lat, 50),
        p95: rank(lat, 95),
        p99: rank(lat, 99),
        firstSeen: Math.min(...g.map((e) => e.ts)),
        lastSeen: Math.max(...g.map((e) => e.ts)),
        consumers: consumers.slice(0, 20),
        consumerCount: consumers.length,
      };
    })
    .sort(
      (a, b) =>
        b.calls - a.calls || cmp(a.service, b.service) || cmp(a.method, b.method) || cmp(a.route, b.route),
    );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

describe("event stores give the same answers", { timeout: 120_000 }, () => {
  let clickhouseServer: ClickHouseServerProcess;
  const stores: EventStore[] = [];
  before(async () => {
    clickhouseServer = await startClickHouseServer();
    stores.push(
      await DuckDbStore.open({ path: ":memory:" }),
      await ClickHouseStore.open({ url: clickhouseServer.url }),
    );
    for (const store of stores) {
      // Several batches, as the intake writes them.
      for (let i = 0; i < events.length; i += 700) await store.append(events.slice(i, i + 700));
    }
  });
  after(async () => {
    for (const store of stores) await store.close();
    await clickhouseServer?.stop();
  });

  test("every event is stored once", async () => {
    for (const store of stores) assert.equal(await store.count({}), events.length, store.engine);
  });

  for (const [name, filter] of FILTERS) {
    test(`inventory: ${name}`, async () => {
      const expected = referenceInventory(events, filter);
      for (const store of stores) assert.deepEqual(await store.inventory(filter), expected, store.engine);
    });
    test(`service graph, recent events and count: ${name}`, async () => {
      const [duck, click] = stores as [EventStore, EventStore];
      assert.deepEqual(await click.serviceGraph(filter), await duck.serviceGraph(filter));
      assert.deepEqual(await click.recentEvents(filter, 50), await duck.recentEvents(filter, 50));
      assert.equal(await click.count(filter), await duck.count(filter));
    });
  }

  test("recent events come back exactly as stored, binary bodies included", async () => {
    // Up to the long-bodies event, which a listing cuts (tested below).
    const to = longBodies.timestamp_ms;
    const newest = [...events]
      .filter((e) => e.ts < to)
      .sort((a, b) => b.ts - a.ts || cmp(b.id, a.id))
      .slice(0, 100);
    for (const store of stores) {
      const got = (await store.recentEvents({ to }, 100)).map((e) => ({
        ...e,
        requestHeaders: { ...e.requestHeaders },
        responseHeaders: { ...e.responseHeaders },
      }));
      const want = newest.map((e) => ({
        ...e,
        requestHeaders: { ...e.requestHeaders },
        responseHeaders: { ...e.responseHeaders },
      }));
      assert.deepEqual(got, want, store.engine);
    }
  });

  test("a gRPC call that did not end OK counts as an error", async () => {
    for (const store of stores) {
      const [greeter] = await store.inventory({ service: "greeter" });
      assert.deepEqual([greeter!.calls, greeter!.errors], [4, 2], store.engine);
      const failed = await store.recentEvents({ service: "greeter", status: "error" }, 10);
      assert.deepEqual(failed.map((e) => e.grpcStatus).sort(), [14, 5], store.engine);
    }
  });

  test("a table from a release without grpc_status gets the column on open", async () => {
    // DuckDB: the columns of the previous release, as a file it left behind; ClickHouse: the same table.
    const previous = EVENT_COLUMNS.filter((c) => c.name !== "grpc_status");
    const dir = await mkdtemp(join(tmpdir(), "ingestion-migrate-"));
    try {
      const path = join(dir, "old.duckdb");
      const instance = await DuckDBInstance.create(path);
      const connection = await instance.connect();
      const duckTypes = { string: "VARCHAR", int: "INTEGER", bigint: "BIGINT", "bigint?": "BIGINT" };
      await connection.run(
        `CREATE TABLE ${EVENTS_TABLE} (${previous.map((c) => `${c.name} ${duckTypes[c.kind]}`).join(", ")})`,
      );
      connection.closeSync();
      instance.closeSync();
      const admin = createClient({ url: clickhouseServer.url });
      const clickTypes = { string: "String", int: "Int32", bigint: "Int64", "bigint?": "Nullable(Int64)" };
      await admin.command({ query: "CREATE DATABASE migrate_check" });
      await admin.command({
        query: `CREATE TABLE migrate_check.${EVENTS_TABLE} (${previous.map((c) => `${c.name} ${clickTypes[c.kind]}`).join(", ")}) ENGINE = MergeTree() ORDER BY (service, route, ts)`,
      });
      await admin.close();
      const duck = await DuckDbStore.open({ path });
      const click = await ClickHouseStore.open({ url: clickhouseServer.url, database: "migrate_check" });
      for (const store of [duck, click]) {
        await store.append(grpcCalls.map((e, i) => normalizeEvent(e, `event ${i}`, { now: START })));
        const [greeter] = await store.inventory({ service: "greeter" });
        assert.deepEqual([greeter!.calls, greeter!.errors], [4, 2], store.engine);
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("percentiles are nearest rank: ceil(n * p / 100)", async () => {
    for (const store of stores) {
      const [twenty] = await store.inventory({ service: "rank-20" });
      assert.deepEqual([twenty!.p50, twenty!.p95, twenty!.p99], [10, 19, 20], store.engine);
      const [hundred] = await store.inventory({ service: "rank-100" });
      assert.deepEqual([hundred!.p50, hundred!.p95, hundred!.p99], [50, 95, 99], store.engine);
      const [one] = await store.inventory({ service: "rank-1" });
      assert.deepEqual([one!.p50, one!.p95, one!.p99], [1, 1, 1], store.engine);
    }
  });

  test("the CLI serves from ClickHouse with --store clickhouse", async () => {
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const args = ["--import", "tsx", main, "--host", "127.0.0.13", "--port", "0", "--store", "clickhouse"];
    args.push("--clickhouse-url", clickhouseServer.url, "--clickhouse-database", "cli_check");
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      child.stdout.setEncoding("utf8");
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (c: string) => {
        out += c;
      });
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk: string) => {
          out += chunk;
          const m = /\(clickhouse\) listening on (http:\/\/\S+?);/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`ingestion CLI exited early (${code}): ${out}`)));
      });
      const posted = await fetch(`${url}/api/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          method: "GET",
          path: "/users/5",
          status: 200,
          latency_ms: 4,
          service: "users",
        }),
      });
      assert.equal(posted.status, 202);
      const { apis } = (await (await fetch(`${url}/api/v1/apis`)).json()) as { apis: InventoryEntry[] };
      assert.deepEqual(
        apis.map((a) => [a.service, a.method, a.route, a.calls, a.p95]),
        [["users", "GET", "/users/{id}", 1, 4]],
      );
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  test("listings cut long bodies the same way in both engines; the event by id has them whole", async () => {
    const original = events.find((e) => e.service === "long-bodies")!;
    const listed: ApiEvent[] = [];
    for (const store of stores) {
      const [event] = await store.recentEvents({ service: "long-bodies" }, 10);
      listed.push(event!);
      assert.equal(event!.requestBody!.truncated, true, store.engine);
      assert.equal([...event!.requestBody!.data].length, 16_384, `${store.engine}: cut at 16384 code points`);
      assert.ok(original.requestBody!.data.startsWith(event!.requestBody!.data));
      assert.equal(event!.responseBody!.data.length, 16_384);
      assert.ok(
        Buffer.from(event!.responseBody!.data, "base64").every((b) => b === 7),
        "the base64 prefix decodes",
      );
      const whole = await store.eventById(original.id);
      assert.deepEqual(whole!.requestBody, original.requestBody, store.engine);
      assert.deepEqual(whole!.responseBody, original.responseBody, store.engine);
      assert.equal(await store.eventById("00000000-0000-0000-0000-000000000000"), undefined);
    }
    assert.deepEqual(listed[0], listed[1]);
  });

  test("services are listed once, sorted", async () => {
    const expected = [...new Set(events.map((e) => e.service))].sort();
    for (const store of stores) assert.deepEqual(await store.services(), expected, store.engine);
  });
});
