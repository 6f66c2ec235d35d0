import { type ClickHouseClient, createClient } from "@clickhouse/client";
import type { ApiEvent } from "./api-event.ts";
import { type ColumnKind, EVENT_COLUMNS, missingColumns } from "./event-columns.ts";
import { EVENTS_TABLE, type SqlDialect } from "./query-sql.ts";
import { SqlEventStore } from "./sql-event-store.ts";

const CLICKHOUSE_TYPES: Record<ColumnKind, string> = {
  string: "String",
  int: "Int32",
  bigint: "Int64",
  "bigint?": "Nullable(Int64)",
};

/**
 * ClickHouse SQL kept to what Debian's clickhouse-server 18.16 accepts (no query parameters, no DateTime64,
 * no TTL), so the same adapter runs against that and a current server.
 */
export const clickhouseDialect: SqlDialect = {
  quote: (value) => `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`,
  countIf: (condition) => `countIf(${condition})`,
  // quantileExact(q) takes the element at 0-based floor(q * n); nearest rank is ceil(q * n) - 1. Both agree
  // when q is lowered by 1e-12: for q * n an integer the floor drops by one, otherwise (fractions are multiples
  // of 0.01 for these levels) it stays, for any n below 10^10. One sort for all three levels.
  latencyPercentiles: "quantilesExact(0.499999999999, 0.949999999999, 0.989999999999)(latency_us)",
  distinctConsumers: "groupUniqArray(consumer)",
  prefix: (column, n) => `substring(${column}, 1, ${n})`,
};

/** Options of {@link ClickHouseStore.open}. */
export interface ClickHouseStoreOptions {
  /** HTTP interface, such as `http://127.0.0.1:8123`. */
  url: string;
  database?: string;
  username?: string;
  password?: string;
}

/**
 * The scale-out store: ClickHouse over its HTTP interface (`@clickhouse/client`), a MergeTree ordered by
 * (service, route, ts) so inventory scans read in group order. An append resolves when ClickHouse has
 * acknowledged the INSERT, i.e. the part is written on the server.
 */
export class ClickHouseStore extends SqlEventStore {
  protected readonly dialect = clickhouseDialect;

  readonly engine = "clickhouse";

  private constructor(private readonly client: ClickHouseClient) {
    super();
  }

  static async open(options: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    const database = options.database ?? "default";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
      throw new Error(`ClickHouse database name ${JSON.stringify(database)} must be letters, digits and "_"`);
    }
    const admin = createClient({ url: options.url, username: options.username, password: options.password });
    try {
      await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    } catch (error) {
      await admin.close();
      throw new Error(`cannot reach ClickHouse at ${options.url}: ${(error as Error).message}`);
    }
    await admin.close();
    const client = createClient({
      url: options.url,
      username: options.username,
      password: options.password,
      database,
    });
    const columns = EVENT_COLUMNS.map((c) => `${c.name} ${CLICKHOUSE_TYPES[c.kind]}`).join(", ");
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS ${EVENTS_TABLE} (${columns}) ENGINE = MergeTree() ORDER BY (service, route, ts)`,
    });
    const described = await client.query({ query: `DESCRIBE TABLE ${EVENTS_TABLE}`, format: "JSONEachRow" });
    const existing = (await described.json<{ name: string }>()).map((r) => r.name);
    for (const column of missingColumns(existing)) {
      await client.command({
        query: `ALTER TABLE ${EVENTS_TABLE} ADD COLUMN ${column.name} ${CLICKHOUSE_TYPES[column.kind]}`,
      });
    }
    return new ClickHouseStore(client);
  }

  async append(events: readonly ApiEvent[]): Promise<void> {
    if (events.length === 0) return;
    const values = events.map((event) => {
      const row: Record<string, string | number | null> = {};
      for (const column of EVENT_COLUMNS) row[column.name] = column.value(event);
      return row;
    });
    await this.client.insert({ table: EVENTS_TABLE, values, format: "JSONEachRow" });
  }

  /** Drops every event (tests and benchmarks reuse one server). */
  async truncate(): Promise<void> {
    await this.client.command({ query: `TRUNCATE TABLE ${EVENTS_TABLE}` });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  protected async rows(query: string): Promise<Record<string, unknown>[]> {
    const result = await this.client.query({ query, format: "JSONEachRow" });
    return result.json<Record<string, unknown>>();
  }
}
