import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { ApiEvent } from "./api-event.ts";
import { type ColumnKind, EVENT_COLUMNS, missingColumns } from "./event-columns.ts";
import { EVENTS_TABLE, type SqlDialect } from "./query-sql.ts";
import { SqlEventStore } from "./sql-event-store.ts";

const DUCKDB_TYPES: Record<ColumnKind, string> = {
  string: "VARCHAR NOT NULL",
  int: "INTEGER NOT NULL",
  bigint: "BIGINT NOT NULL",
  "bigint?": "BIGINT",
};

export const duckdbDialect: SqlDialect = {
  quote: (value) => {
    if (value.includes("\0")) throw new Error("a filter value must not contain NUL");
    return `'${value.replaceAll("'", "''")}'`;
  },
  countIf: (condition) => `count(*) FILTER (WHERE ${condition})`,
  // DECIMAL quantile literals make DuckDB compute the rank in exact integer arithmetic: ceil(n * q).
  latencyPercentiles: "quantile_disc(latency_us, [0.5, 0.95, 0.99])",
  distinctConsumers: "list(DISTINCT consumer)",
  // n characters are at least n bytes.
  prefix: (column, n) => `left(${column}, ${n})`,
};

/** Options of {@link DuckDbStore.open}. */
export interface DuckDbStoreOptions {
  /** Database file; `:memory:` for a throw-away store. */
  path: string;
  /**
   * WAL size that triggers a checkpoint (DuckDB's `checkpoint_threshold`). Default 256MB: DuckDB's own 16MB
   * makes every few flushes pay for a checkpoint (about twice the CPU per event when measured here); a larger
   * WAL costs a longer replay after a crash, never durability (the WAL is synced on every commit).
   */
  checkpointThreshold?: string;
}

/**
 * The embedded default store: one DuckDB file, this process its only writer. Writes go through an Appender;
 * each `append` ends in a flush, which commits (the WAL is synced), so a resolved append survives a crash.
 */
export class DuckDbStore extends SqlEventStore {
  protected readonly dialect = duckdbDialect;

  readonly engine = "duckdb";
  private appender: DuckDBAppender | undefined;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
  ) {
    super();
  }

  static async open(options: DuckDbStoreOptions): Promise<DuckDbStore> {
    if (options.path !== ":memory:") await mkdir(dirname(options.path), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(options.path, {
        checkpoint_threshold: options.checkpointThreshold ?? "256MB",
      });
    } catch (error) {
      throw new Error(`cannot open DuckDB database ${options.path}: ${(error as Error).message}`);
    }
    const writer = await instance.connect();
    const columns = EVENT_COLUMNS.map((c) => `${c.name} ${DUCKDB_TYPES[c.kind]}`).join(", ");
    await writer.run(`CREATE TABLE IF NOT EXISTS ${EVENTS_TABLE} (${columns})`);
    const existing = await writer.runAndReadAll(
      `SELECT column_name FROM information_schema.columns WHERE table_name = '${EVENTS_TABLE}'`,
    );
    for (const column of missingColumns(existing.getRowObjects().map((r) => String(r.column_name)))) {
      await writer.run(`ALTER TABLE ${EVENTS_TABLE} ADD COLUMN ${column.name} ${DUCKDB_TYPES[column.kind]}`);
    }
    return new DuckDbStore(instance, writer, await instance.connect());
  }

  async append(events: readonly ApiEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.appender ??= await this.writer.createAppender(EVENTS_TABLE);
    const appender = this.appender;
    try {
      for (const event of events) {
        for (const column of EVENT_COLUMNS) {
          const value = column.value(event);
          if (value === null) appender.appendNull();
          else if (column.kind === "string") appender.appendVarchar(value as string);
          else if (column.kind === "int") appender.appendInteger(value as number);
          else appender.appendBigInt(BigInt(value as number));
        }
        appender.endRow();
      }
      appender.flushSync();
    } catch (error) {
      // A failed flush leaves the appender unusable; the next batch starts a fresh one.
      this.appender = undefined;
      try {
        appender.closeSync();
      } catch {
        // already broken; the original error is what matters
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.appender?.closeSync();
    this.appender = undefined;
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }

  protected async rows(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.reader.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }
}
