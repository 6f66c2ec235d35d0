import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { argsOf, bodyOf, headersOf, originOf, urlOf } from "./request-echo.ts";

/** Options of {@link startEcho}. */
export interface EchoOptions {
  /** Address to listen on; any 127.x address works on Linux. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** This instance's name, sent in the `x-echo-name` response header and the JSON field `name`. Default `echo`. */
  name?: string;
}

/** A running echo server. */
export interface EchoServer {
  /** Base URL, such as `http://127.0.0.2:8080`. */
  url: string;
  port: number;
  host: string;
  name: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Response header naming the instance that answered. */
export const ECHO_NAME_HEADER = "x-echo-name";

/** Largest request body read; larger ones get 413 (the echo is a test upstream, not a sink). */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** httpbin's own limits. */
const MAX_DELAY_SECONDS = 10;
const MAX_BYTES = 100 * 1024;

const READ_METHODS = ["GET", "HEAD"];
/** httpbin's method endpoints: each accepts only its own method and echoes the body. */
const BODY_METHODS: Readonly<Record<string, string>> = {
  "/post": "POST",
  "/put": "PUT",
  "/patch": "PATCH",
  "/delete": "DELETE",
};

/**
 * Starts an httpbin-compatible echo server: `/ip`, `/get`, `/headers`, `/anything[/...]`, `/status/:code`,
 * `/response-headers`, `/delay/:s`, `/bytes/:n`.
 *
 * @example
 * const echo = await startEcho({ host: "127.0.0.2", port: 0, name: "egress-router1" });
 * const res = await fetch(`${echo.url}/get?a=1`); // {"args":{"a":"1"}, ..., "name":"egress-router1"}
 * await echo.close();
 */
export async function startEcho(options: EchoOptions = {}): Promise<EchoServer> {
  const host = options.host ?? "127.0.0.1";
  const name = options.name ?? "echo";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`echo: port must be an integer from 0 to 65535, got ${String(options.port)}`);
  }
  const server = createServer((req, res) => {
    res.setHeader(ECHO_NAME_HEADER, name);
    handle(req, res, name).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `echo: ${String(error)}`, name });
      else res.destroy();
    });
  });
  await listen(server, port, host);
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    port: bound,
    host,
    name,
    close: () => closeServer(server),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
  const url = new URL(req.url ?? "/", "http://echo.invalid");
  const path = url.pathname;
  const method = req.method ?? "GET";
  const body = await readBody(req, res, name);
  if (body === undefined) return;
  const common = () => ({ args: argsOf(url.searchParams), headers: headersOf(req), origin: originOf(req) });

  if (path === "/anything" || path.startsWith("/anything/")) {
    return sendJson(res, 200, { ...common(), ...bodyFields(req, body), method, url: urlOf(req), name });
  }
  if (path === "/ip") {
    if (!allowRead(method, res, name)) return;
    return sendJson(res, 200, { origin: originOf(req), name });
  }
  if (path === "/headers") {
    if (!allowRead(method, res, name)) return;
    return sendJson(res, 200, { headers: headersOf(req), name });
  }
  if (path === "/get") {
    if (!allowRead(method, res, name)) return;
    return sendJson(res, 200, { ...common(), url: urlOf(req), name });
  }
  const bodyMethod = BODY_METHODS[path];
  if (bodyMethod !== undefined) {
    if (!allowMethods([bodyMethod], method, res, name)) return;
    return sendJson(res, 200, { ...common(), ...bodyFields(req, body), url: urlOf(req), name });
  }
  if (path === "/user-agent") {
    if (!allowRead(method, res, name)) return;
    return sendJson(res, 200, { "user-agent": req.headers["user-agent"] ?? null, name });
  }
  if (path === "/uuid") {
    if (!allowRead(method, res, name)) return;
    return sendJson(res, 200, { uuid: randomUUID(), name });
  }
  if (path === "/response-headers") {
    return sendResponseHeaders(res, url.searchParams);
  }
  const status = /^\/status\/([^/]+)$/.exec(path);
  if (status) return sendStatus(res, status[1]!, name);
  const delay = /^\/delay\/([^/]+)$/.exec(path);
  if (delay) {
    const seconds = Number(delay[1]);
    if (!Number.isFinite(seconds) || seconds < 0) {
      return sendJson(res, 400, { error: `delay must be a number of seconds >= 0, got "${delay[1]}"`, name });
    }
    const closed = await sleepUnlessClosed(Math.min(seconds, MAX_DELAY_SECONDS) * 1000, res);
    if (closed) return;
    return sendJson(res, 200, { ...common(), ...bodyFields(req, body), url: urlOf(req), name });
  }
  const bytes = /^\/bytes\/([^/]+)$/.exec(path);
  if (bytes) {
    const n = Number(bytes[1]);
    if (!Number.isInteger(n) || n < 0) {
      return sendJson(res, 400, { error: `bytes must be a whole number >= 0, got "${bytes[1]}"`, name });
    }
    const payload = randomBytes(Math.min(n, MAX_BYTES));
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": payload.length });
    res.end(method === "HEAD" ? undefined : payload);
    return;
  }
  sendJson(res, 404, { error: `no such endpoint: ${path}`, name });
}

function bodyFields(req: IncomingMessage, body: Buffer) {
  return { ...bodyOf(body, req.headers["content-type"]), files: {} };
}

function allowRead(method: string, res: ServerResponse, name: string): boolean {
  return allowMethods(READ_METHODS, method, res, name);
}

function allowMethods(
  allowed: readonly string[],
  method: string,
  res: ServerResponse,
  name: string,
): boolean {
  if (allowed.includes(method)) return true;
  res.setHeader("allow", [...allowed, "OPTIONS"].join(", "));
  sendJson(res, 405, { error: `method ${method} not allowed here; use ${allowed[0]}`, name });
  return false;
}

/** `/status/:code`; like httpbin, `200,404` picks one of the listed codes at random. */
function sendStatus(res: ServerResponse, spec: string, name: string): void {
  const codes = spec.split(",").map((c) => Number(c.trim()));
  if (codes.some((c) => !Number.isInteger(c) || c < 100 || c > 599)) {
    sendJson(res, 400, {
      error: `status must be an HTTP code 100-599 (or a list), got "${spec}"`,
      name,
    });
    return;
  }
  const code = codes[Math.floor(Math.random() * codes.length)]!;
  // 1xx cannot be a final answer over node's http server; httpbin has the same restriction behind its proxy.
  if (code < 200) {
    sendJson(res, 400, { error: `status ${code} is informational and cannot end a response`, name });
    return;
  }
  res.writeHead(code, { "content-length": 0 });
  res.end();
}

/** `/response-headers?k=v`: sets each query pair as a response header and echoes all response headers as JSON. */
function sendResponseHeaders(res: ServerResponse, params: URLSearchParams): void {
  for (const key of new Set(params.keys())) {
    try {
      res.setHeader(key, params.getAll(key));
    } catch {
      sendJson(res, 400, { error: `"${key}" is not a valid header name or has an invalid value` });
      return;
    }
  }
  res.setHeader("content-type", "application/json");
  const shown: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(res.getHeaders())) {
    if (value !== undefined) shown[key] = Array.isArray(value) ? value : String(value);
  }
  // Content-Length is part of what httpbin shows; it depends on the body, so settle it by iteration.
  let body = "";
  for (let i = 0; i < 3; i++) {
    shown["content-length"] = String(Buffer.byteLength(body));
    body = `${JSON.stringify(shown, null, 2)}\n`;
  }
  res.setHeader("content-length", Buffer.byteLength(body));
  res.writeHead(200);
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(res.req?.method === "HEAD" ? undefined : body);
}

async function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      res.setHeader("connection", "close");
      sendJson(res, 413, { error: `request body over ${MAX_BODY_BYTES} bytes`, name });
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Waits, but gives up early when the client goes away; true when it did. */
function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(false);
    }, ms);
    res.once("close", onClose);
  });
}
