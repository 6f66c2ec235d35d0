export {
  type ApiEvent,
  type ApiEventInput,
  type CapturedBody,
  EVENT_LIMITS,
  InvalidEventError,
  normalizeEvent,
  type Workload,
} from "./api-event.ts";
export { type ClickHouseServerProcess, startClickHouseServer } from "./clickhouse-server-process.ts";
export { ClickHouseStore, type ClickHouseStoreOptions } from "./clickhouse-store.ts";
export { DuckDbStore, type DuckDbStoreOptions } from "./duckdb-store.ts";
export type { EventFilter, EventStore, GraphEdge, InventoryEntry, StatusFilter } from "./event-store.ts";
export { MASKED_VALUE, maskSensitiveHeaders, SENSITIVE_HEADERS } from "./header-masking.ts";
export {
  type IngestionOptions,
  type IngestionServer,
  type StoreChoice,
  startIngestion,
} from "./ingestion-server.ts";
export { routeTemplate } from "./path-template.ts";
