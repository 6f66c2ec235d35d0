import { LISTED_BODY_CHARS } from "./api-event.ts";
import { EVENT_COLUMNS } from "./event-columns.ts";
import type { EventFilter, GraphEdge, InventoryEntry } from "./event-store.ts";
import { MAX_CONSUMERS_LISTED, MAX_GRAPH_EDGES, MAX_INVENTORY_ENTRIES } from "./event-store.ts";

/** The bits of SQL where DuckDB and ClickHouse differ; everything else is shared text. */
export interface SqlDialect {
  /** A string literal. */
  quote(value: string): string;
  /** Count of rows satisfying `condition`. */
  countIf(condition: string): string;
  /**
   * Nearest-rank p50, p95 and p99 of the group's non-null `latency_us` as a 3-element list: the value at
   * 1-based rank ceil(n * p / 100), exactly, in both engines.
   */
  latencyPercentiles: string;
  /** Distinct consumers of the group as a list. */
  distinctConsumers: string;
  /** A prefix of a string column at least `n` bytes long (or the whole string when shorter). */
  prefix(column: string, n: number): string;
}

export const EVENTS_TABLE = "api_events";

/** An error: a 4xx/5xx answer, no answer at all (status 0), or a gRPC call that did not end OK. */
const ERROR = "(status >= 400 OR status = 0 OR coalesce(grpc_status, 0) > 0)";

/** The WHERE clause of a filter; every value is validated or quoted, never pasted. */
export function whereClause(filter: EventFilter, dialect: SqlDialect): string {
  const terms: string[] = [];
  if (filter.from !== undefined) terms.push(`ts >= ${integer(filter.from, "from")}`);
  if (filter.to !== undefined) terms.push(`ts < ${integer(filter.to, "to")}`);
  if (filter.service !== undefined) terms.push(`service = ${dialect.quote(filter.service)}`);
  const status = filter.status;
  if (status === "error") terms.push(ERROR);
  else if (typeof status === "string") {
    const base = Number(status[0]) * 100;
    terms.push(`(status >= ${base} AND status < ${base + 100})`);
  } else if (status !== undefined) terms.push(`status = ${integer(status, "status")}`);
  return terms.length === 0 ? "" : `WHERE ${terms.join(" AND ")}`;
}

function integer(value: number, name: string): string {
  if (!Number.isSafeInteger(value)) throw new Error(`filter ${name} must be an integer, got ${value}`);
  return String(value);
}

/** The inventory query: one row per service, method and route. */
export function inventorySql(filter: EventFilter, dialect: SqlDialect): string {
  return `SELECT service, method, route, count(*) AS calls, ${dialect.countIf(ERROR)} AS errors,
  count(latency_us) AS n_latency, ${dialect.latencyPercentiles} AS percentiles,
  min(ts) AS first_seen, max(ts) AS last_seen, ${dialect.distinctConsumers} AS consumers
FROM ${EVENTS_TABLE} ${whereClause(filter, dialect)}
GROUP BY service, method, route
ORDER BY calls DESC, service, method, route
LIMIT ${MAX_INVENTORY_ENTRIES}`;
}

/** Turns an inventory row (either engine's value types) into an {@link InventoryEntry}. */
export function inventoryEntry(row: Record<string, unknown>): InventoryEntry {
  const calls = Number(row.calls);
  const errors = Number(row.errors);
  const measured = Number(row.n_latency) > 0;
  const percentiles = measured
    ? (row.percentiles as unknown[]).map((us) => Number(us) / 1000)
    : [null, null, null];
  const consumers = (row.consumers as unknown[]).map(String).sort();
  return {
    service: String(row.service),
    method: String(row.method),
    route: String(row.route),
    calls,
    errors,
    errorRate: calls === 0 ? 0 : errors / calls,
    p50: percentiles[0] ?? null,
    p95: percentiles[1] ?? null,
    p99: percentiles[2] ?? null,
    firstSeen: Number(row.first_seen),
    lastSeen: Number(row.last_seen),
    consumers: consumers.slice(0, MAX_CONSUMERS_LISTED),
    consumerCount: consumers.length,
  };
}

/**
 * Columns of a listing: every event column, bodies cut in SQL to a prefix that still holds more than
 * {@link LISTED_BODY_CHARS} code points whenever the body does (4 bytes per code point at most), so the exact
 * cut can be made in JS ({@link eventFromRow}) the same way for both engines: ClickHouse 18's substringUTF8
 * miscounts 4-byte characters.
 */
function listedColumns(dialect: SqlDialect): string {
  return EVENT_COLUMNS.map((c) =>
    c.name === "request_body" || c.name === "response_body"
      ? `${dialect.prefix(c.name, LISTED_BODY_CHARS * 4 + 4)} AS ${c.name}_cut`
      : c.name,
  ).join(", ");
}

/** Newest events first; bodies are cut so a listing's memory stays bounded whatever was captured. */
export function recentEventsSql(filter: EventFilter, limit: number, dialect: SqlDialect): string {
  return `SELECT ${listedColumns(dialect)} FROM ${EVENTS_TABLE} ${whereClause(filter, dialect)} ORDER BY ts DESC, id DESC LIMIT ${integer(limit, "limit")}`;
}

/** One whole event. */
export function eventByIdSql(id: string, dialect: SqlDialect): string {
  return `SELECT ${EVENT_COLUMNS.map((c) => c.name).join(", ")} FROM ${EVENTS_TABLE} WHERE id = ${dialect.quote(id)} LIMIT 1`;
}

export function serviceGraphSql(filter: EventFilter, dialect: SqlDialect): string {
  return `SELECT consumer AS source, service AS destination, count(*) AS calls, ${dialect.countIf(ERROR)} AS errors
FROM ${EVENTS_TABLE} ${whereClause(filter, dialect)}
GROUP BY consumer, service
ORDER BY calls DESC, source, destination
LIMIT ${MAX_GRAPH_EDGES}`;
}

export function graphEdge(row: Record<string, unknown>): GraphEdge {
  return {
    source: String(row.source),
    destination: String(row.destination),
    calls: Number(row.calls),
    errors: Number(row.errors),
  };
}

export function servicesSql(): string {
  return `SELECT DISTINCT service FROM ${EVENTS_TABLE} ORDER BY service`;
}

export function countSql(filter: EventFilter, dialect: SqlDialect): string {
  return `SELECT count(*) AS n FROM ${EVENTS_TABLE} ${whereClause(filter, dialect)}`;
}
