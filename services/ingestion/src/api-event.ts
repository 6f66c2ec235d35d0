import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { maskSensitiveHeaders } from "./header-masking.ts";
import { routeTemplate } from "./path-template.ts";

/**
 * One API call as a plugin posts it: seed 003's event (`metadata`, `request`, `response`, `source`,
 * `destination`, `protocol`) plus the api-observer's additions (`method`, `path`, `status`, `latency_ms`,
 * `timestamp_ms`, `service`, `body_base64`). The additions are optional: when missing they are derived from the
 * pseudo-headers (`:method`, `:path`, `:status`, `:authority`), so a seed plugin's events are accepted as they are.
 */
export interface ApiEventInput {
  metadata?: {
    context_id?: number;
    /** Seconds since the epoch (the seed's unit). */
    timestamp?: number;
    timestamp_ms?: number;
    traffic_source_name?: string;
    traffic_source_version?: string;
    node_name?: string;
    mesh_id?: string;
    receiver_name?: string;
    receiver_version?: string;
  };
  request?: HttpMessageInput;
  response?: HttpMessageInput & { backend_latency_in_nanos?: number };
  source?: WorkloadInput;
  destination?: WorkloadInput;
  protocol?: string;
  method?: string;
  path?: string;
  status?: number;
  latency_ms?: number;
  /** Milliseconds since the epoch; wins over `metadata.timestamp`. */
  timestamp_ms?: number;
  /** The called service; default `destination.name`, then the `:authority` host. */
  service?: string;
}

export interface HttpMessageInput {
  headers?: Record<string, string>;
  /** Text body (UTF-8). */
  body?: string;
  /** Binary body, base64; give this or `body`, not both. */
  body_base64?: string;
}

export interface WorkloadInput {
  name?: string;
  namespace?: string;
  ip?: string;
  port?: number;
}

/** A workload as stored: every field present. */
export interface Workload {
  name: string;
  namespace: string;
  ip: string;
  port: number;
}

/** A captured body: text, or bytes in base64. */
export interface CapturedBody {
  encoding: "utf8" | "base64";
  data: string;
  /** Set when a listing cut `data` short ({@link LISTED_BODY_CHARS}); the event by id has it whole. */
  truncated?: true;
}

/** Characters of each body a listing of events carries; a multiple of 4, so base64 stays decodable. */
export const LISTED_BODY_CHARS = 16_384;

/** An event after validation and normalisation: what the stores keep and the query API returns. */
export interface ApiEvent {
  id: string;
  /** Milliseconds since the epoch. */
  ts: number;
  service: string;
  method: string;
  /** Path with query, as captured. */
  path: string;
  /** Path template such as `/users/{id}`. */
  route: string;
  /** HTTP status; 0 when the call got no response. */
  status: number;
  /**
   * A gRPC call's outcome: the response's `grpc-status` (from its trailers, or the headers of a trailers-only
   * response; the api-observer merges trailers into `response.headers`), null when it has none or it is not a
   * decimal number. A gRPC call answers HTTP 200 whether it succeeded or not, so this is its real outcome.
   */
  grpcStatus: number | null;
  /** Latency in ms, whole microseconds. */
  latencyMs: number | null;
  protocol: string;
  source: Workload;
  destination: Workload;
  /** Who called: source name, else source IP. */
  consumer: string;
  requestHeaders: Record<string, string>;
  requestBody: CapturedBody | null;
  responseHeaders: Record<string, string>;
  responseBody: CapturedBody | null;
  nodeName: string;
  trafficSource: string;
  contextId: number | null;
}

/** An intake input that is not a valid event; `message` names the event and the field. */
export class InvalidEventError extends Error {
  override name = "InvalidEventError";
}

/** Limits on one event; captured traffic is hostile, so every size is bounded. */
export const EVENT_LIMITS = {
  /** Decoded body bytes (the seed's MAX_BODY_SIZE). */
  bodyBytes: 1_000_000,
  headers: 256,
  headerNameChars: 256,
  headerValueChars: 16_384,
  pathChars: 8_192,
  shortStringChars: 1_024,
} as const;

const TOP_KEYS = new Set([
  "metadata",
  "request",
  "response",
  "source",
  "destination",
  "protocol",
  "method",
  "path",
  "status",
  "latency_ms",
  "timestamp_ms",
  "service",
]);
const METADATA_KEYS = new Set([
  "context_id",
  "timestamp",
  "timestamp_ms",
  "traffic_source_name",
  "traffic_source_version",
  "node_name",
  "mesh_id",
  "receiver_name",
  "receiver_version",
  "istio_version",
]);
const MESSAGE_KEYS = new Set(["headers", "body", "body_base64"]);
const RESPONSE_KEYS = new Set([...MESSAGE_KEYS, "backend_latency_in_nanos"]);
const WORKLOAD_KEYS = new Set(["name", "namespace", "ip", "port"]);

const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Options of {@link normalizeEvent}. */
export interface NormalizeOptions {
  /** Receive time, used when the event carries no timestamp. */
  now: number;
  /** Extra header names to mask besides the built-in list. */
  sensitiveHeaders?: ReadonlySet<string>;
}

/**
 * Validates one parsed event and normalises it into an {@link ApiEvent}; `where` prefixes error messages
 * (`event 3`, `line 7`). Sensitive headers are masked here, so they are never stored.
 */
export function normalizeEvent(value: unknown, where: string, options: NormalizeOptions): ApiEvent {
  const input = objectAt(value, where);
  checkKeys(input, TOP_KEYS, where);
  const metadata = optionalObject(input.metadata, `${where}: metadata`);
  checkKeys(metadata, METADATA_KEYS, `${where}: metadata`);
  const request = optionalObject(input.request, `${where}: request`);
  checkKeys(request, MESSAGE_KEYS, `${where}: request`);
  const response = optionalObject(input.response, `${where}: response`);
  checkKeys(response, RESPONSE_KEYS, `${where}: response`);

  const requestHeaders = headersAt(request.headers, `${where}: request.headers`);
  const responseHeaders = headersAt(response.headers, `${where}: response.headers`);

  const method = optionalString(input.method, `${where}: method`) ?? requestHeaders[":method"];
  if (method === undefined)
    throw new InvalidEventError(`${where}: method is missing; give "method" or request.headers[":method"]`);
  if (!METHOD_TOKEN.test(method))
    throw new InvalidEventError(
      `${where}: method ${JSON.stringify(clip(method))} is not an HTTP method token`,
    );

  const path =
    optionalString(input.path, `${where}: path`, EVENT_LIMITS.pathChars) ?? requestHeaders[":path"];
  if (path === undefined)
    throw new InvalidEventError(`${where}: path is missing; give "path" or request.headers[":path"]`);
  if (!path.startsWith("/") && path !== "*") {
    throw new InvalidEventError(`${where}: path ${JSON.stringify(clip(path))} must start with "/"`);
  }

  let status = optionalInteger(input.status, `${where}: status`, 0, 999);
  if (status === undefined && responseHeaders[":status"] !== undefined) {
    const parsed = Number(responseHeaders[":status"]);
    if (!Number.isInteger(parsed) || parsed < 100 || parsed > 999) {
      throw new InvalidEventError(
        `${where}: response.headers[":status"] ${JSON.stringify(clip(responseHeaders[":status"]!))} is not an HTTP status`,
      );
    }
    status = parsed;
  }

  let latencyMs = optionalNumber(input.latency_ms, `${where}: latency_ms`, 0);
  const backendNanos = optionalNumber(
    response.backend_latency_in_nanos,
    `${where}: response.backend_latency_in_nanos`,
    0,
  );
  if (latencyMs === undefined && backendNanos !== undefined) latencyMs = backendNanos / 1e6;
  // Kept to whole microseconds: stored as an integer so every engine holds exactly the same value.
  if (latencyMs !== undefined) latencyMs = Math.round(latencyMs * 1000) / 1000;

  const tsMs =
    optionalNumber(input.timestamp_ms, `${where}: timestamp_ms`, 1) ??
    optionalNumber(metadata.timestamp_ms, `${where}: metadata.timestamp_ms`, 1);
  const tsSeconds = optionalNumber(metadata.timestamp, `${where}: metadata.timestamp`, 1);
  const ts = Math.round(tsMs ?? (tsSeconds !== undefined ? tsSeconds * 1000 : options.now));

  const source = workloadAt(input.source, `${where}: source`);
  const destination = workloadAt(input.destination, `${where}: destination`);
  const authority = requestHeaders[":authority"] ?? requestHeaders.host;
  const service =
    optionalString(input.service, `${where}: service`) ||
    destination.name ||
    (authority ? hostOf(authority) : "") ||
    (destination.ip ? `${destination.ip}:${destination.port}` : "unknown");

  const contextId = optionalInteger(
    metadata.context_id,
    `${where}: metadata.context_id`,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const sensitive = options.sensitiveHeaders;
  return {
    id: randomUUID(),
    ts,
    service,
    method,
    path,
    route: routeTemplate(path),
    status: status ?? 0,
    grpcStatus: grpcStatusOf(responseHeaders["grpc-status"]),
    latencyMs: latencyMs ?? null,
    protocol: optionalString(input.protocol, `${where}: protocol`) ?? "",
    source,
    destination,
    consumer: source.name || source.ip || "unknown",
    requestHeaders: maskSensitiveHeaders(requestHeaders, sensitive),
    requestBody: bodyAt(request, `${where}: request`),
    responseHeaders: maskSensitiveHeaders(responseHeaders, sensitive),
    responseBody: bodyAt(response, `${where}: response`),
    nodeName: optionalString(metadata.node_name, `${where}: metadata.node_name`) ?? "",
    trafficSource: [
      optionalString(metadata.traffic_source_name, `${where}: metadata.traffic_source_name`) ?? "",
      optionalString(metadata.traffic_source_version, `${where}: metadata.traffic_source_version`) ?? "",
    ]
      .filter(Boolean)
      .join(" "),
    contextId: contextId ?? null,
  };
}

/** `grpc-status` as a number: 1 to 10 decimal digits (captured traffic; anything else is no status). */
function grpcStatusOf(value: string | undefined): number | null {
  return value !== undefined && /^[0-9]{1,10}$/.test(value) ? Number(value) : null;
}

function objectAt(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidEventError(`${where}: expected a JSON object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function optionalObject(value: unknown, where: string): Record<string, unknown> {
  return value === undefined || value === null ? {} : objectAt(value, where);
}

function checkKeys(object: Record<string, unknown>, allowed: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.has(key)) {
      throw new InvalidEventError(
        `${where}: unknown field ${JSON.stringify(clip(key))}; expected one of ${[...allowed].join(", ")}`,
      );
    }
  }
}

function optionalString(
  value: unknown,
  where: string,
  max: number = EVENT_LIMITS.shortStringChars,
): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string")
    throw new InvalidEventError(`${where}: expected a string, got ${describe(value)}`);
  if (value.length > max)
    throw new InvalidEventError(`${where}: ${value.length} characters; at most ${max} allowed`);
  return value;
}

function optionalNumber(value: unknown, where: string, min: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new InvalidEventError(`${where}: expected a number >= ${min}, got ${describe(value)}`);
  }
  return value;
}

function optionalInteger(value: unknown, where: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidEventError(
      `${where}: expected an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

function headersAt(value: unknown, where: string): Record<string, string> {
  const object = optionalObject(value, where);
  const entries = Object.entries(object);
  if (entries.length > EVENT_LIMITS.headers) {
    throw new InvalidEventError(
      `${where}: ${entries.length} headers; at most ${EVENT_LIMITS.headers} allowed`,
    );
  }
  // A null-prototype object: header names such as "__proto__" are data, not object machinery.
  const headers: Record<string, string> = Object.create(null);
  for (const [name, headerValue] of entries) {
    if (name.length === 0 || name.length > EVENT_LIMITS.headerNameChars) {
      throw new InvalidEventError(
        `${where}: header name of ${name.length} characters; expected 1 to ${EVENT_LIMITS.headerNameChars}`,
      );
    }
    if (typeof headerValue !== "string") {
      throw new InvalidEventError(
        `${where}[${JSON.stringify(clip(name))}]: expected a string value, got ${describe(headerValue)}`,
      );
    }
    if (headerValue.length > EVENT_LIMITS.headerValueChars) {
      throw new InvalidEventError(
        `${where}[${JSON.stringify(clip(name))}]: value of ${headerValue.length} characters; at most ${EVENT_LIMITS.headerValueChars} allowed`,
      );
    }
    // Names differing only in case are one header in HTTP: keep both values, comma-joined.
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${headerValue}` : headerValue;
  }
  return headers;
}

function bodyAt(message: Record<string, unknown>, where: string): CapturedBody | null {
  const text = message.body;
  const base64 = message.body_base64;
  if (text !== undefined && text !== null && base64 !== undefined && base64 !== null) {
    throw new InvalidEventError(`${where}: give body or body_base64, not both`);
  }
  if (base64 !== undefined && base64 !== null) {
    if (typeof base64 !== "string")
      throw new InvalidEventError(`${where}.body_base64: expected a base64 string, got ${describe(base64)}`);
    if (base64.length > Math.ceil(EVENT_LIMITS.bodyBytes / 3) * 4) {
      throw new InvalidEventError(`${where}.body_base64: over ${EVENT_LIMITS.bodyBytes} bytes decoded`);
    }
    if (!BASE64.test(base64))
      throw new InvalidEventError(`${where}.body_base64: not valid base64 (RFC 4648, padded)`);
    return base64.length === 0 ? null : { encoding: "base64", data: base64 };
  }
  if (text === undefined || text === null) return null;
  if (typeof text !== "string")
    throw new InvalidEventError(
      `${where}.body: expected a string, got ${describe(text)}; binary bodies go in body_base64`,
    );
  if (Buffer.byteLength(text) > EVENT_LIMITS.bodyBytes) {
    throw new InvalidEventError(`${where}.body: over ${EVENT_LIMITS.bodyBytes} bytes`);
  }
  return text.length === 0 ? null : { encoding: "utf8", data: text };
}

function workloadAt(value: unknown, where: string): Workload {
  const object = optionalObject(value, where);
  checkKeys(object, WORKLOAD_KEYS, where);
  const ip = optionalString(object.ip, `${where}.ip`) ?? "";
  if (ip !== "" && isIP(ip) === 0)
    throw new InvalidEventError(`${where}.ip: ${JSON.stringify(clip(ip))} is not an IP address`);
  return {
    name: optionalString(object.name, `${where}.name`) ?? "",
    namespace: optionalString(object.namespace, `${where}.namespace`) ?? "",
    ip,
    port: optionalInteger(object.port, `${where}.port`, 0, 65535) ?? 0,
  };
}

/** `host:port` or `[v6]:port` to the host alone. */
function hostOf(authority: string): string {
  if (authority.startsWith("[")) return authority.slice(0, authority.indexOf("]") + 1);
  const colon = authority.lastIndexOf(":");
  return colon > 0 ? authority.slice(0, colon) : authority;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(clip(value))}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/** Keeps hostile input from making error messages huge. */
function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
