import { type ApiEvent, type CapturedBody, LISTED_BODY_CHARS } from "./api-event.ts";

/** Column value kinds both stores understand. */
export type ColumnKind = "string" | "int" | "bigint" | "bigint?";

/** One column of the events table: its kind and how an event fills it. */
export interface EventColumn {
  name: string;
  kind: ColumnKind;
  value(event: ApiEvent): string | number | null;
}

/**
 * The events table, in column order. One list for both stores, so their schemas cannot drift apart. A column
 * added after a release goes at the end with a nullable kind: the stores add it to an existing table
 * ({@link missingColumns}), where the rows already stored have no value for it.
 */
export const EVENT_COLUMNS: readonly EventColumn[] = [
  { name: "id", kind: "string", value: (e) => e.id },
  { name: "ts", kind: "bigint", value: (e) => e.ts },
  { name: "service", kind: "string", value: (e) => e.service },
  { name: "method", kind: "string", value: (e) => e.method },
  { name: "path", kind: "string", value: (e) => e.path },
  { name: "route", kind: "string", value: (e) => e.route },
  { name: "status", kind: "int", value: (e) => e.status },
  // Integer microseconds: ClickHouse 18's float parser is not correctly rounded, integers are exact everywhere.
  {
    name: "latency_us",
    kind: "bigint?",
    value: (e) => (e.latencyMs === null ? null : Math.round(e.latencyMs * 1000)),
  },
  { name: "protocol", kind: "string", value: (e) => e.protocol },
  { name: "source_name", kind: "string", value: (e) => e.source.name },
  { name: "source_namespace", kind: "string", value: (e) => e.source.namespace },
  { name: "source_ip", kind: "string", value: (e) => e.source.ip },
  { name: "source_port", kind: "int", value: (e) => e.source.port },
  { name: "destination_name", kind: "string", value: (e) => e.destination.name },
  { name: "destination_namespace", kind: "string", value: (e) => e.destination.namespace },
  { name: "destination_ip", kind: "string", value: (e) => e.destination.ip },
  { name: "destination_port", kind: "int", value: (e) => e.destination.port },
  { name: "consumer", kind: "string", value: (e) => e.consumer },
  { name: "request_headers", kind: "string", value: (e) => JSON.stringify(e.requestHeaders) },
  { name: "request_body", kind: "string", value: (e) => e.requestBody?.data ?? "" },
  { name: "request_body_encoding", kind: "string", value: (e) => e.requestBody?.encoding ?? "" },
  { name: "response_headers", kind: "string", value: (e) => JSON.stringify(e.responseHeaders) },
  { name: "response_body", kind: "string", value: (e) => e.responseBody?.data ?? "" },
  { name: "response_body_encoding", kind: "string", value: (e) => e.responseBody?.encoding ?? "" },
  { name: "node_name", kind: "string", value: (e) => e.nodeName },
  { name: "traffic_source", kind: "string", value: (e) => e.trafficSource },
  { name: "context_id", kind: "bigint?", value: (e) => e.contextId },
  { name: "grpc_status", kind: "bigint?", value: (e) => e.grpcStatus },
];

/** The columns an existing events table lacks (it was created by an older release), in table order. */
export function missingColumns(existing: Iterable<string>): EventColumn[] {
  const have = new Set(existing);
  return EVENT_COLUMNS.filter((c) => !have.has(c.name));
}

/** A row as read back: column name -> value (numbers may come back as strings or bigints). */
export type EventRow = Record<string, unknown>;

/** Rebuilds an event from a stored row, whichever engine it came from. */
export function eventFromRow(row: EventRow): ApiEvent {
  const text = (name: string) => String(row[name] ?? "");
  const num = (name: string) => Number(row[name]);
  const optionalNum = (name: string) =>
    row[name] === null || row[name] === undefined ? null : Number(row[name]);
  return {
    id: text("id"),
    ts: num("ts"),
    service: text("service"),
    method: text("method"),
    path: text("path"),
    route: text("route"),
    status: num("status"),
    grpcStatus: optionalNum("grpc_status"),
    latencyMs: row.latency_us === null || row.latency_us === undefined ? null : Number(row.latency_us) / 1000,
    protocol: text("protocol"),
    source: {
      name: text("source_name"),
      namespace: text("source_namespace"),
      ip: text("source_ip"),
      port: num("source_port"),
    },
    destination: {
      name: text("destination_name"),
      namespace: text("destination_namespace"),
      ip: text("destination_ip"),
      port: num("destination_port"),
    },
    consumer: text("consumer"),
    requestHeaders: parseHeaders(text("request_headers")),
    requestBody: body(row, "request_body", text("request_body_encoding")),
    responseHeaders: parseHeaders(text("response_headers")),
    responseBody: body(row, "response_body", text("response_body_encoding")),
    nodeName: text("node_name"),
    trafficSource: text("traffic_source"),
    contextId: optionalNum("context_id"),
  };
}

function parseHeaders(json: string): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  if (json === "") return headers;
  for (const [name, value] of Object.entries(JSON.parse(json) as Record<string, unknown>))
    headers[name] = String(value);
  return headers;
}

/**
 * A body from its row: whole (`<name>`), or from a listing's prefix (`<name>_cut`), which is cut here to
 * {@link LISTED_BODY_CHARS} code points and flagged when anything was left out.
 */
function body(row: EventRow, name: string, encoding: string): CapturedBody | null {
  if (encoding !== "utf8" && encoding !== "base64") return null;
  const cut = row[`${name}_cut`];
  if (cut === undefined) return { encoding, data: String(row[name] ?? "") };
  const codePoints = Array.from(String(cut));
  if (codePoints.length <= LISTED_BODY_CHARS) return { encoding, data: codePoints.join("") };
  return { encoding, data: codePoints.slice(0, LISTED_BODY_CHARS).join(""), truncated: true };
}
