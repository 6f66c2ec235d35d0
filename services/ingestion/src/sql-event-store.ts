/**
 * The read side every SQL store shares: the same queries (query-sql.ts) in the store's dialect, the same
 * mapping of rows to answers. A store supplies its dialect and how it runs a query; this is why DuckDB and
 * ClickHouse give the same answers to the same questions.
 */
import type { ApiEvent } from "./api-event.ts";
import { eventFromRow } from "./event-columns.ts";
import type { EventFilter, EventStore, GraphEdge, InventoryEntry } from "./event-store.ts";
import {
  countSql,
  eventByIdSql,
  graphEdge,
  inventoryEntry,
  inventorySql,
  recentEventsSql,
  type SqlDialect,
  serviceGraphSql,
  servicesSql,
} from "./query-sql.ts";

export abstract class SqlEventStore implements EventStore {
  abstract readonly engine: string;
  protected abstract readonly dialect: SqlDialect;

  /** Runs one query and returns its rows as plain objects. */
  protected abstract rows(sql: string): Promise<Record<string, unknown>[]>;

  abstract append(events: readonly ApiEvent[]): Promise<void>;
  abstract close(): Promise<void>;

  async inventory(filter: EventFilter): Promise<InventoryEntry[]> {
    return (await this.rows(inventorySql(filter, this.dialect))).map(inventoryEntry);
  }

  async recentEvents(filter: EventFilter, limit: number): Promise<ApiEvent[]> {
    return (await this.rows(recentEventsSql(filter, limit, this.dialect))).map(eventFromRow);
  }

  async eventById(id: string): Promise<ApiEvent | undefined> {
    const [row] = await this.rows(eventByIdSql(id, this.dialect));
    return row ? eventFromRow(row) : undefined;
  }

  async serviceGraph(filter: EventFilter): Promise<GraphEdge[]> {
    return (await this.rows(serviceGraphSql(filter, this.dialect))).map(graphEdge);
  }

  async services(): Promise<string[]> {
    return (await this.rows(servicesSql())).map((r) => String(r.service));
  }

  async count(filter: EventFilter): Promise<number> {
    const [row] = await this.rows(countSql(filter, this.dialect));
    return Number(row!.n);
  }
}
