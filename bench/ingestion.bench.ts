/**
 * Ingestion service: how fast events go into each store, and how fast the API-inventory query answers with
 * 1,000,000 events stored. DuckDB (embedded default) is the baseline; ClickHouse (Debian clickhouse-server,
 * started here on loopback) and the HTTP intake path are compared with it.
 *
 * Targets (issue 6): >= 50,000 events/s into DuckDB with batching (= <= 20 µs/event), inventory p95 <= 100 ms.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApiEvent, normalizeEvent } from "../services/ingestion/src/api-event.ts";
import {
  type ClickHouseServerProcess,
  startClickHouseServer,
} from "../services/ingestion/src/clickhouse-server-process.ts";
import { ClickHouseStore } from "../services/ingestion/src/clickhouse-store.ts";
import { DuckDbStore } from "../services/ingestion/src/duckdb-store.ts";
import type { EventStore } from "../services/ingestion/src/event-store.ts";
import { type IngestionServer, startIngestion } from "../services/ingestion/src/ingestion-server.ts";
import { sampleEvents } from "../services/ingestion/test/support/sample-events.ts";
import { defineSuite } from "./benchmark.ts";

const STORED_EVENTS = 1_000_000;
const BATCH = 5_000;
/** Events written per ingest sample. */
const SAMPLE_EVENTS = 100_000;
/** Inventory queries per sample; the sample is their p95. */
const QUERIES_PER_SAMPLE = 20;
const HTTP_BATCH = 1_000;
const HTTP_CLIENTS = 4;

let dir: string;
let clickhouse: ClickHouseServerProcess;
let duckQuery: DuckDbStore;
let clickQuery: ClickHouseStore;
let duckIngest: DuckDbStore;
let clickIngest: ClickHouseStore;
let intake: IngestionServer;
/** Pre-normalised events reused by every ingest sample, so generation is not measured. */
let pool: ApiEvent[];
/** The same events as NDJSON request bodies for the HTTP case. */
let httpBodies: string[];

function normalized(count: number, seed: number): ApiEvent[] {
  return sampleEvents(count, { seed, spanMs: 7 * 86_400_000 }).map((e, i) =>
    normalizeEvent(e, `event ${i}`, { now: 0 }),
  );
}

async function load(stores: EventStore[], total: number): Promise<void> {
  for (let done = 0; done < total; done += 20_000) {
    const chunk = normalized(Math.min(20_000, total - done), 1 + done);
    for (let i = 0; i < chunk.length; i += BATCH) {
      const batch = chunk.slice(i, i + BATCH);
      await Promise.all(stores.map((s) => s.append(batch)));
    }
  }
}

/**
 * µs per event for appending the pool in BATCH-sized writes, as the intake's group commit does under load:
 * wall-clock time, or this process's CPU time (all threads, DuckDB's included), which a machine shared with
 * other work disturbs far less.
 */
async function appendSample(store: EventStore, clock: "wall" | "cpu"): Promise<number> {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < pool.length; i += BATCH) await store.append(pool.slice(i, i + BATCH));
  if (clock === "cpu") {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / pool.length;
  }
  return Number(process.hrtime.bigint() - wall) / 1000 / pool.length;
}

/** µs per event through HTTP: NDJSON batches from several clients, each acknowledged only once durable. */
async function httpSample(): Promise<number> {
  let next = 0;
  const client = async () => {
    while (next < httpBodies.length) {
      const body = httpBodies[next++]!;
      const res = await fetch(`${intake.url}/api/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`intake answered ${res.status}`);
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: HTTP_CLIENTS }, client));
  return Number(process.hrtime.bigint() - start) / 1000 / (httpBodies.length * HTTP_BATCH);
}

/** p95 (nearest rank) in ms of QUERIES_PER_SAMPLE inventory queries over all stored events, wall or CPU time. */
async function inventoryP95(store: EventStore, clock: "wall" | "cpu"): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < QUERIES_PER_SAMPLE; i++) {
    const wall = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const apis = await store.inventory({});
    const used = process.cpuUsage(cpu);
    times.push(
      clock === "cpu" ? (used.user + used.system) / 1000 : Number(process.hrtime.bigint() - wall) / 1e6,
    );
    if (apis.length === 0) throw new Error(`${store.engine}: empty inventory`);
  }
  times.sort((a, b) => a - b);
  return times[Math.ceil(times.length * 0.95) - 1]!;
}

async function prepare(): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), "bench-ingestion-"));
  clickhouse = await startClickHouseServer();
  duckQuery = await DuckDbStore.open({ path: join(dir, "query.duckdb") });
  clickQuery = await ClickHouseStore.open({ url: clickhouse.url, database: "bench_query" });
  await load([duckQuery, clickQuery], STORED_EVENTS);
  duckIngest = await DuckDbStore.open({ path: join(dir, "ingest.duckdb") });
  clickIngest = await ClickHouseStore.open({ url: clickhouse.url, database: "bench_ingest" });
  intake = await startIngestion({
    store: { engine: "duckdb", path: join(dir, "intake.duckdb") },
    maxPendingEvents: 100_000,
  });
  pool = normalized(SAMPLE_EVENTS, 99);
  const inputs = sampleEvents(SAMPLE_EVENTS, { seed: 98 });
  httpBodies = [];
  for (let i = 0; i < inputs.length; i += HTTP_BATCH) {
    httpBodies.push(
      inputs
        .slice(i, i + HTTP_BATCH)
        .map((e) => JSON.stringify(e))
        .join("\n"),
    );
  }
}

async function cleanUp(): Promise<void> {
  await intake?.close();
  for (const store of [duckQuery, clickQuery, duckIngest, clickIngest]) await store?.close();
  await clickhouse?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}

export default defineSuite({
  name: "ingestion",
  description:
    "Ingestion service: µs per event into DuckDB (baseline) and ClickHouse 18.16 in 5,000-event batches and through HTTP NDJSON intake (4 clients × 1,000-event requests), and p95 of the API-inventory query over 1,000,000 stored events; CPU-time cases show the same work with other processes' load taken out.",
  runs: 5,
  async setup() {
    try {
      await prepare();
    } catch (error) {
      await cleanUp(); // the runner skips teardown when setup throws: leave no server behind
      throw error;
    }
  },
  teardown: cleanUp,
  cases: [
    {
      name: "duckdb: append, 5,000-event batches",
      unit: "µs/event",
      target: 20,
      sample: () => appendSample(duckIngest, "wall"),
    },
    {
      name: "duckdb: append, CPU time",
      unit: "µs/event",
      baseline: "duckdb: append, 5,000-event batches",
      target: 20,
      sample: () => appendSample(duckIngest, "cpu"),
    },
    {
      name: "clickhouse: append, 5,000-event batches",
      unit: "µs/event",
      baseline: "duckdb: append, 5,000-event batches",
      sample: () => appendSample(clickIngest, "wall"),
    },
    {
      name: "duckdb: HTTP NDJSON intake to 202",
      unit: "µs/event",
      baseline: "duckdb: append, 5,000-event batches",
      target: 20,
      sample: httpSample,
    },
    {
      name: "duckdb: inventory p95, 1M events",
      unit: "ms",
      target: 100,
      sample: () => inventoryP95(duckQuery, "wall"),
    },
    {
      name: "duckdb: inventory p95, 1M events, CPU time",
      unit: "ms",
      baseline: "duckdb: inventory p95, 1M events",
      target: 100,
      sample: () => inventoryP95(duckQuery, "cpu"),
    },
    {
      name: "clickhouse: inventory p95, 1M events",
      unit: "ms",
      baseline: "duckdb: inventory p95, 1M events",
      target: 100,
      sample: () => inventoryP95(clickQuery, "wall"),
    },
  ],
});
