import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from "fastify";
import type { ApiEvent } from "./api-event.ts";
import { ClickHouseStore, type ClickHouseStoreOptions } from "./clickhouse-store.ts";
import { DuckDbStore } from "./duckdb-store.ts";
import type { EventStore } from "./event-store.ts";
import { maskSensitiveHeaders } from "./header-masking.ts";
import { IntakeAdmission, IntakeBusyError } from "./intake-admission.ts";
import { INTAKE_CONTENT_TYPES, IntakeError, parseIntakeBody } from "./intake-body.ts";
import { isLoopbackHost } from "./listen-address.ts";
import { BadQueryError, filterFromQuery, limitFromQuery } from "./query-params.ts";
import { WriteBatcher } from "./write-batcher.ts";

/** Which store to open, or an open one (the server then leaves closing it to the caller). */
export type StoreChoice =
  | { engine: "duckdb"; path: string }
  | ({ engine: "clickhouse" } & ClickHouseStoreOptions)
  | { store: EventStore };

/** Options of {@link startIngestion}. */
export interface IngestionOptions {
  /** Listen address. Default `127.0.0.1`. Any address but loopback needs a `token`. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  store: StoreChoice;
  /** When set, intake requests need `Authorization: Bearer <token>`. Required to listen on a non-loopback address. */
  token?: string;
  /** Largest intake body in bytes (413 beyond). Default 16 MiB. */
  bodyLimitBytes?: number;
  /** A request's headers must arrive within this many ms of its first byte (408 and close beyond). Default 10,000. */
  headersTimeoutMs?: number;
  /** A whole request, headers and body, must arrive within this many ms (408 and close beyond). Default 30,000. */
  requestTimeoutMs?: number;
  /** Most events in one intake request (413 beyond). Default 10,000. */
  maxEventsPerRequest?: number;
  /** Most events accepted but not yet durable (503 beyond). Default 50,000. */
  maxPendingEvents?: number;
  /** Most events per store write. Default 5,000. */
  maxBatchEvents?: number;
  /**
   * Most intake requests whose body is in and that are being parsed and written at once (429 beyond). Requests still
   * receiving their body do not count: those hold only `maxReceivingBodyBytes`. Default 64.
   */
  maxConcurrentIntake?: number;
  /**
   * Most bytes of intake bodies still being received, over all requests, counted as they arrive (429 beyond).
   * Default 16 × `bodyLimitBytes`; at least `bodyLimitBytes`.
   */
  maxReceivingBodyBytes?: number;
  /** Header names masked besides the built-in list (authorization, cookie, ...). */
  sensitiveHeaders?: string[];
  /** Log requests (pino, to stdout). Default false. */
  log?: boolean;
}

/** A running ingestion service. */
export interface IngestionServer {
  url: string;
  port: number;
  store: EventStore;
  /** Stops accepting, waits for pending writes, closes the store if this server opened it. */
  close(): Promise<void>;
}

const RETRY_AFTER_SECONDS = "1";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const dashboardFile = (name: string) => readFileSync(new URL(`./dashboard/${name}`, import.meta.url));
const DASHBOARD = {
  html: dashboardFile("index.html"),
  js: dashboardFile("dashboard.js"),
  css: dashboardFile("dashboard.css"),
};
/** The dashboard loads only its own script and style: injected markup could not run script even if it got in. */
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Starts the API-observability ingestion service: intake at `POST /api/v1/events`, the query API under
 * `/api/v1/`, the dashboard at `/`.
 *
 * @example
 * const svc = await startIngestion({ store: { engine: "duckdb", path: "data/events.duckdb" } });
 * await fetch(`${svc.url}/api/v1/events`, { method: "POST", headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ method: "GET", path: "/users/7", status: 200, latency_ms: 3 }) }); // 202
 * await svc.close();
 */
export async function startIngestion(options: IngestionOptions): Promise<IngestionServer> {
  const listenHost = options.host ?? "127.0.0.1";
  // Intake accepts data from whoever can connect: off loopback that is the network, so a token is a must.
  if (!options.token && !(await isLoopbackHost(listenHost))) {
    throw new Error(
      `refusing to listen on ${listenHost} without an intake token: it is not a loopback address, so anyone who can reach it could post events. Set the \`token\` option (INGESTION_TOKEN for the command line), or listen on 127.0.0.1`,
    );
  }
  const bodyLimit = positiveInteger(options, "bodyLimitBytes", 16 * 1024 * 1024);
  const maxEvents = options.maxEventsPerRequest ?? 10_000;
  const headersTimeoutMs = positiveInteger(options, "headersTimeoutMs", 10_000);
  const requestTimeoutMs = positiveInteger(options, "requestTimeoutMs", 30_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new Error(
      `headersTimeoutMs (${headersTimeoutMs}) must not be more than requestTimeoutMs (${requestTimeoutMs}): the request timeout covers the headers too`,
    );
  }
  const admission = new IntakeAdmission({
    bodyLimitBytes: bodyLimit,
    maxReceivingBytes: positiveInteger(options, "maxReceivingBodyBytes", 16 * bodyLimit),
    maxInProgress: positiveInteger(options, "maxConcurrentIntake", 64),
  });
  if (admission.limits.maxReceivingBytes < bodyLimit) {
    throw new Error(
      `maxReceivingBodyBytes (${admission.limits.maxReceivingBytes}) must be at least bodyLimitBytes (${bodyLimit}), or a body at the limit could never be accepted`,
    );
  }
  const sensitive = new Set((options.sensitiveHeaders ?? []).map((h) => h.toLowerCase()));
  const ownsStore = !("store" in options.store);
  const store = await openStore(options.store);
  const batcher = new WriteBatcher(store, {
    maxPendingEvents: options.maxPendingEvents ?? 50_000,
    maxBatchEvents: options.maxBatchEvents ?? 5_000,
  });
  const tokenDigest = options.token ? sha256(options.token) : undefined;

  const app = Fastify({
    bodyLimit,
    logger: options.log ?? false,
    // Fastify sets the server's requestTimeout from its own option (0, none, by default), after creating it.
    requestTimeout: requestTimeoutMs,
    http: {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // Node looks for expired requests only this often (every 30 s by default, which would let a 10 s header
      // timeout run to 40 s): a tenth of the shorter timeout, 1 s at most.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 10))),
    },
    clientErrorHandler: (error: Error & { code?: string }, socket: Socket) =>
      answerClientError(error, socket, headersTimeoutMs, requestTimeoutMs),
  });
  app.removeAllContentTypeParsers();
  // The body is read here rather than by Fastify's buffer parser so that its bytes are counted as they arrive.
  app.addContentTypeParser(
    Object.keys(INTAKE_CONTENT_TYPES),
    (request: FastifyRequest, payload: IncomingMessage) =>
      admission.readBody(payload, request.headers["content-length"]),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply.code(415).send({
        error: `content type ${JSON.stringify(request.headers["content-type"] ?? "(none)")} is not accepted; send ${Object.keys(INTAKE_CONTENT_TYPES).join(", ")}`,
      });
    }
    if (error instanceof IntakeError) return reply.code(error.status).send({ error: error.message });
    if (error instanceof IntakeBusyError) {
      return reply.code(429).header("retry-after", RETRY_AFTER_SECONDS).send({ error: error.message });
    }
    if (error instanceof BadQueryError) return reply.code(400).send({ error: error.message });
    if (error.statusCode && error.statusCode < 500)
      return reply.code(error.statusCode).send({ error: error.message });
    // Printed even when request logging is off: an unexpected failure must not vanish.
    process.stderr.write(
      `ingestion: ${request.method} ${request.url} failed: ${error.stack ?? error.message}\n`,
    );
    return reply.code(500).send({ error: "internal error; see the service log" });
  });

  app.post(
    "/api/v1/events",
    {
      onRequest: async (request, reply) => {
        if (tokenDigest && !bearerMatches(request, tokenDigest)) {
          reply.header("www-authenticate", 'Bearer realm="ingestion"');
          return reply
            .code(401)
            .send({ error: "missing or wrong bearer token; send Authorization: Bearer <token>" });
        }
      },
      // Admission once the whole body is in (see IntakeAdmission): a client still sending holds no slot.
      preHandler: async (_request, reply) => {
        reply.raw.once("close", admission.admit());
      },
    },
    async (request, reply) => {
      const encoding = (request.headers["content-encoding"] ?? "identity").trim().toLowerCase();
      if (encoding !== "identity") {
        return reply.code(415).send({
          error: `content encoding ${JSON.stringify(encoding)} is not accepted; send the body uncompressed`,
        });
      }
      const mediaType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      const charset = /charset\s*=\s*"?([^";\s]+)/i
        .exec(request.headers["content-type"] ?? "")?.[1]
        ?.toLowerCase();
      if (charset && charset !== "utf-8" && charset !== "utf8") {
        return reply.code(415).send({ error: `charset ${charset} is not accepted; send UTF-8` });
      }
      const format = INTAKE_CONTENT_TYPES[mediaType];
      if (!format) {
        return reply.code(415).send({
          error: `content type ${JSON.stringify(mediaType || "(none)")} is not accepted; send ${Object.keys(INTAKE_CONTENT_TYPES).join(", ")}`,
        });
      }
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      const events = parseIntakeBody(body, format, {
        now: Date.now(),
        maxEvents,
        sensitiveHeaders: sensitive,
      });
      const durable = batcher.submit(events);
      if (!durable) {
        reply.header("retry-after", RETRY_AFTER_SECONDS);
        return reply.code(503).send({ error: "write queue full; retry later" });
      }
      try {
        await durable;
      } catch (error) {
        process.stderr.write(`ingestion: store write failed: ${(error as Error).message}\n`);
        reply.header("retry-after", RETRY_AFTER_SECONDS);
        return reply.code(503).send({ error: "the store could not write the events; retry later" });
      }
      return reply.code(202).send({ accepted: events.length, ids: events.map((e) => e.id) });
    },
  );
  app.route({
    method: ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: "/api/v1/events",
    handler: async (request, reply) =>
      reply
        .code(405)
        .header("allow", "POST")
        .send({ error: `method ${request.method} not allowed on /api/v1/events; use POST` }),
  });

  app.get("/api/v1/apis", async (request) => ({
    apis: await store.inventory(filterFromQuery(query(request))),
  }));
  app.get("/api/v1/events/recent", async (request) => {
    const q = query(request);
    const events = await store.recentEvents(filterFromQuery(q), limitFromQuery(q));
    return { events: events.map((e) => eventView(e, sensitive)) };
  });
  app.get("/api/v1/events/:id", async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!UUID.test(id))
      return reply
        .code(400)
        .send({ error: `event id must be a UUID, got ${JSON.stringify(id.slice(0, 64))}` });
    const event = await store.eventById(id);
    if (!event) return reply.code(404).send({ error: `no event ${id}` });
    return { event: eventView(event, sensitive) };
  });
  app.get("/api/v1/graph", async (request) => ({
    edges: await store.serviceGraph(filterFromQuery(query(request))),
  }));
  app.get("/api/v1/services", async () => ({ services: await store.services() }));
  app.get("/healthz", async () => ({
    status: "ok",
    engine: store.engine,
    pendingEvents: batcher.pendingEvents,
    intakeInProgress: admission.inProgress,
    intakeReceivingBytes: admission.receivingBytes,
  }));

  const page = (type: string, body: Buffer) => async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .header("content-type", type)
      .header("content-security-policy", DASHBOARD_CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("cache-control", "no-store")
      .send(body);
  app.get("/", page("text/html; charset=utf-8", DASHBOARD.html));
  app.get("/dashboard.js", page("text/javascript; charset=utf-8", DASHBOARD.js));
  app.get("/dashboard.css", page("text/css; charset=utf-8", DASHBOARD.css));

  try {
    await app.listen({ host: listenHost, port: options.port ?? 0 });
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    store,
    close: async () => {
      await app.close();
      await batcher.idle();
      if (ownsStore) await store.close();
    },
  };
}

async function openStore(choice: StoreChoice): Promise<EventStore> {
  if ("store" in choice) return choice.store;
  if (choice.engine === "duckdb") return DuckDbStore.open({ path: choice.path });
  return ClickHouseStore.open(choice);
}

/** Reads a numeric option that must be a whole number >= 1, naming it when it is not. */
function positiveInteger(options: IngestionOptions, name: keyof IngestionOptions, fallback: number): number {
  const value = options[name] ?? fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number >= 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Answers what node reports before a request reaches Fastify: a timed-out request (408, naming the limits),
 * headers too large (431), unparsable HTTP (400). The connection is closed after.
 */
function answerClientError(
  error: Error & { code?: string },
  socket: Socket,
  headersTimeoutMs: number,
  requestTimeoutMs: number,
): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  let status = 400;
  let message = "the request is not valid HTTP/1.1";
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    status = 408;
    message = `the request did not arrive in time: headers must arrive within ${headersTimeoutMs} ms and the whole request within ${requestTimeoutMs} ms; send smaller batches or retry`;
  } else if (error.code === "HPE_HEADER_OVERFLOW") {
    status = 431;
    message = "the request headers are too large";
  }
  // Only when no answer has started on this connection (node's own rule): bytes after a partial response would corrupt it.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ error: message });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function query(request: FastifyRequest): Record<string, unknown> {
  return request.query as Record<string, unknown>;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Compares digests in constant time, so response timing says nothing about the token. */
function bearerMatches(request: FastifyRequest, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
  return match !== null && timingSafeEqual(sha256(match[1]!), expected);
}

/** An event as the query API shows it; headers are masked again in case the store holds older, unmasked rows. */
function eventView(event: ApiEvent, sensitive: ReadonlySet<string>) {
  return {
    ...event,
    requestHeaders: maskSensitiveHeaders(event.requestHeaders, sensitive),
    responseHeaders: maskSensitiveHeaders(event.responseHeaders, sensitive),
  };
}
