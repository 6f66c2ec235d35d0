/**
 * Sends one HTTP request to one host of a cluster and hands back the response head and a body stream.
 * Failures are classified the way Envoy names stream reset reasons, so the router can answer with
 * Envoy's status, body and response flag.
 */
import type { EventEmitter } from "node:events";
import { constants as h2 } from "node:http2";
import { Readable } from "node:stream";
import type { UpstreamCluster, UpstreamHost } from "./upstream-cluster.ts";

export type HeaderList = Array<[string, string]>;

export interface UpstreamRequestSpec {
  method: string;
  /** Path with query. */
  path: string;
  /** `:authority` value. */
  authority: string;
  scheme: "http" | "https";
  /** Lower-case regular headers (no pseudo-headers, no hop-by-hop headers). */
  headers: HeaderList;
  /** Request body; undefined when the request has none. */
  body: Readable | Uint8Array | undefined;
}

export interface UpstreamResponse {
  status: number;
  headers: HeaderList;
  body: Readable;
}

export type ResetReason =
  | "connection failure"
  | "connection timeout"
  | "connection termination"
  | "protocol error"
  | "local reset";

/** A failed upstream exchange, named as Envoy names it. */
export class UpstreamResetError extends Error {
  constructor(
    readonly reason: ResetReason,
    readonly transportFailureReason: string,
    readonly beforeHeaders = true,
  ) {
    super(`upstream reset: ${reason}${transportFailureReason ? `, ${transportFailureReason}` : ""}`);
    this.name = "UpstreamResetError";
  }
}

const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  EADDRNOTAVAIL: "Cannot assign requested address",
};

/** Maps a Node/undici error to Envoy's reset reason and transport failure reason. */
export function classifyUpstreamError(err: unknown, connected: boolean): UpstreamResetError {
  if (err instanceof UpstreamResetError) return err;
  const e = err as NodeJS.ErrnoException & { code?: string };
  const code = e?.code ?? "";
  if (code in CONNECT_ERRORS) {
    return new UpstreamResetError("connection failure", `delayed connect error: ${CONNECT_ERRORS[code]}`);
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT")
    return new UpstreamResetError("connection timeout", "");
  if (
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    /certificate|SSL|TLS/i.test(e?.message ?? "")
  ) {
    return new UpstreamResetError("connection failure", `TLS_error:${e?.message ?? code}`);
  }
  if (
    code.startsWith("HPE_") ||
    code === "UND_ERR_INFO" ||
    code === "ERR_HTTP2_PROTOCOL_ERROR" ||
    code === "UND_ERR_HEADERS_OVERFLOW"
  ) {
    return new UpstreamResetError("protocol error", "");
  }
  if (code === "UND_ERR_ABORTED" || e?.name === "AbortError")
    return new UpstreamResetError("local reset", "");
  return new UpstreamResetError(connected ? "connection termination" : "connection failure", "");
}

function headersFromUndici(raw: Record<string, string | string[] | undefined>): HeaderList {
  const out: HeaderList = [];
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, v]);
    else out.push([name, value]);
  }
  return out;
}

/**
 * Sends `spec` to `host`. An "abort" event on `signal` cancels the exchange (downstream gone, route timeout);
 * an EventEmitter rather than an AbortSignal because undici accepts both and the emitter is far cheaper per
 * request (no DOMException on abort).
 * Resolves when response headers arrive.
 */
export async function sendUpstreamRequest(
  cluster: UpstreamCluster,
  host: UpstreamHost,
  spec: UpstreamRequestSpec,
  signal: EventEmitter,
): Promise<UpstreamResponse> {
  if (cluster.config.http2) return sendHttp2(cluster, host, spec, signal);
  const headers: string[] = ["host", spec.authority];
  for (const [n, v] of spec.headers) headers.push(n, v);
  try {
    const res = await cluster.pool(host).request({
      method: spec.method as "GET",
      path: spec.path,
      headers,
      body: spec.body ?? null,
      signal,
      // Envoy does not follow redirects, retry or decompress; neither does undici by default.
    });
    return {
      status: res.statusCode,
      headers: headersFromUndici(res.headers as Record<string, string | string[]>),
      body: res.body as unknown as Readable,
    };
  } catch (err) {
    throw classifyUpstreamError(err, (err as { code?: string }).code === "UND_ERR_SOCKET");
  }
}

async function sendHttp2(
  cluster: UpstreamCluster,
  host: UpstreamHost,
  spec: UpstreamRequestSpec,
  signal: EventEmitter,
): Promise<UpstreamResponse> {
  let session: Awaited<ReturnType<ReturnType<UpstreamCluster["http2"]>["acquire"]>>;
  try {
    session = await cluster.http2(host).acquire();
  } catch (err) {
    throw classifyUpstreamError(err, false);
  }
  const headers: Record<string, string | string[]> = {
    [h2.HTTP2_HEADER_METHOD]: spec.method,
    [h2.HTTP2_HEADER_PATH]: spec.path,
    [h2.HTTP2_HEADER_AUTHORITY]: spec.authority,
    [h2.HTTP2_HEADER_SCHEME]: cluster.config.tls ? "https" : "http",
  };
  for (const [n, v] of spec.headers) {
    const existing = headers[n];
    if (existing === undefined) headers[n] = v;
    else headers[n] = Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  const endStream = spec.body === undefined || (spec.body instanceof Uint8Array && spec.body.length === 0);
  return new Promise<UpstreamResponse>((resolve, reject) => {
    let stream: ReturnType<typeof session.request>;
    try {
      stream = session.request(headers, { endStream });
    } catch (err) {
      reject(classifyUpstreamError(err, true));
      return;
    }
    cluster.inc("upstream_rq_http2_total");
    signal.once("abort", () => stream.close(h2.NGHTTP2_CANCEL));
    let settled = false;
    stream.on("response", (h) => {
      settled = true;
      const list: HeaderList = [];
      let status = 0;
      for (const [name, value] of Object.entries(h)) {
        if (name === ":status") status = Number(value);
        else if (!name.startsWith(":") && value !== undefined) {
          if (Array.isArray(value)) for (const v of value) list.push([name, v]);
          else list.push([name, String(value)]);
        }
      }
      resolve({ status, headers: list, body: stream as unknown as Readable });
    });
    stream.on("error", (err) => {
      if (!settled) {
        settled = true;
        reject(classifyUpstreamError(err, true));
      }
    });
    stream.on("close", () => {
      if (!settled) {
        settled = true;
        reject(new UpstreamResetError("connection termination", ""));
      }
    });
    if (!endStream) {
      if (spec.body instanceof Uint8Array) stream.end(spec.body);
      else if (spec.body) (spec.body as Readable).pipe(stream);
    }
  });
}

/** Wraps a byte array as a stream body (used for buffered bodies and plugin callouts). */
export function bodyFromBytes(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
}
