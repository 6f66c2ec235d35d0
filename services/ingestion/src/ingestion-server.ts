import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from "fastify";
import type { ApiEvent } from "./api-event.ts";
import { ClickHouseStore, type ClickHouseStoreOptions } from "./clickhouse-store.ts";
import { DuckDbStore } from "./duckdb-store.ts";
import type { EventStore } from "./event-store.ts";
import { maskSensitiveHeaders } from "./header-masking.ts";
import { INTAKE_CONTENT_TYPES, IntakeError, parseIntakeBody } from "./intake-body.ts";
import { BadQueryError, filterFromQuery, limitFromQuery } from "./query-params.ts";
import { WriteBatcher } from "./write-batcher.ts";

/** Which store to open, or an open one (the server then leaves closing it to the caller). */
export type StoreChoice =
  | { engine: "duckdb"; path: string }
  | ({ engine: "clickhouse" } & ClickHouseStoreOptions)
  | { store: EventStore };

/** Options of {@link startIngestion}. */
export interface IngestionOptions {
  /** Listen address. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  store: StoreChoice;
  /** When set, intake requests need `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest intake body in bytes (413 beyond). Default 16 MiB. */
  bodyLimitBytes?: number;
  /** Most events in one intake request (413 beyond). Default 10,000. */
  maxEventsPerRequest?: number;
  /** Most events accepted but not yet durable (503 beyond). Default 50,000. */
  maxPendingEvents?: number;
  /** Most events per store write. Default 5,000. */
  maxBatchEvents?: number;
  /** Most intake requests being read and parsed at once (429 beyond); bounds memory to this times the body limit. Default 64. */
  maxConcurrentIntake?: number;
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
  const bodyLimit = options.bodyLimitBytes ?? 16 * 1024 * 1024;
  const maxEvents = options.maxEventsPerRequest ?? 10_000;
  const maxConcurrentIntake = options.maxConcurrentIntake ?? 64;
  const sensitive = new Set((options.sensitiveHeaders ?? []).map((h) => h.toLowerCase()));
  const ownsStore = !("store" in options.store);
  const store = await openStore(options.store);
  const batcher = new WriteBatcher(store, {
    maxPendingEvents: options.maxPendingEvents ?? 50_000,
    maxBatchEvents: options.maxBatchEvents ?? 5_000,
  });
  const tokenDigest = options.token ? sha256(options.token) : undefined;
  let intakeInFlight = 0;

  const app = Fastify({ bodyLimit, logger: options.log ?? false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(Object.keys(INTAKE_CONTENT_TYPES), { parseAs: "buffer" }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(413).send({ error: `body over the limit of ${bodyLimit} bytes; split the batch` });
    }
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply.code(415).send({
        error: `content type ${JSON.stringify(request.headers["content-type"] ?? "(none)")} is not accepted; send ${Object.keys(INTAKE_CONTENT_TYPES).join(", ")}`,
      });
    }
    if (error instanceof IntakeError) return reply.code(error.status).send({ error: error.message });
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
        if (intakeInFlight >= maxConcurrentIntake) {
          reply.header("retry-after", RETRY_AFTER_SECONDS).header("connection", "close");
          return reply
            .code(429)
            .send({ error: `more than ${maxConcurrentIntake} intake requests at once; retry later` });
        }
        intakeInFlight++;
        reply.raw.once("close", () => {
          intakeInFlight--;
        });
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
    await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
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
