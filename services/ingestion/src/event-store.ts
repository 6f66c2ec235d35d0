import type { ApiEvent } from "./api-event.ts";

/** Which events a query looks at. Every field is optional; all given ones must hold. */
export interface EventFilter {
  /** Inclusive lower bound, ms since the epoch. */
  from?: number;
  /** Exclusive upper bound, ms since the epoch. */
  to?: number;
  /** Called service, exact. */
  service?: string;
  /** An exact status code, a class (`2xx` ... `5xx`) or `error` (status >= 400 or no response). */
  status?: StatusFilter;
}

export type StatusFilter = number | "1xx" | "2xx" | "3xx" | "4xx" | "5xx" | "error";

/** One API operation of the inventory. */
export interface InventoryEntry {
  service: string;
  method: string;
  route: string;
  calls: number;
  errors: number;
  /** errors / calls. */
  errorRate: number;
  /** Nearest-rank latency percentiles in ms; null when no event of the operation carried a latency. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  firstSeen: number;
  lastSeen: number;
  /** Distinct consumers, sorted, at most {@link MAX_CONSUMERS_LISTED}. */
  consumers: string[];
  consumerCount: number;
}

/** One edge of the service graph: consumer -> service. */
export interface GraphEdge {
  source: string;
  destination: string;
  calls: number;
  errors: number;
}

export const MAX_CONSUMERS_LISTED = 20;
/** Operations an inventory answer lists at most (the most called): paths that escape templating stay bounded. */
export const MAX_INVENTORY_ENTRIES = 5_000;
/** Edges a service graph answer lists at most (the busiest): consumers identified by IP stay bounded. */
export const MAX_GRAPH_EDGES = 2_000;

/**
 * Where events live. Implementations must give the same answers on the same data (one shared test suite runs
 * against each): ordering, percentile definition and rounding are part of the contract.
 */
export interface EventStore {
  /** Engine name for logs and health (`duckdb`, `clickhouse`). */
  readonly engine: string;
  /** Writes a batch; when the promise resolves the events are durable. */
  append(events: readonly ApiEvent[]): Promise<void>;
  /** API inventory, most called first (then service, method, route), at most {@link MAX_INVENTORY_ENTRIES}. */
  inventory(filter: EventFilter): Promise<InventoryEntry[]>;
  /** Most recent events first (then id descending), at most `limit`; long bodies are cut and flagged `truncated`. */
  recentEvents(filter: EventFilter, limit: number): Promise<ApiEvent[]>;
  /** One event, bodies whole; undefined when there is none with that id. */
  eventById(id: string): Promise<ApiEvent | undefined>;
  /** Consumer -> service edges, most calls first (then source, destination), at most {@link MAX_GRAPH_EDGES}. */
  serviceGraph(filter: EventFilter): Promise<GraphEdge[]>;
  /** Distinct services, sorted. */
  services(): Promise<string[]>;
  /** Number of events matching the filter. */
  count(filter: EventFilter): Promise<number>;
  close(): Promise<void>;
}
