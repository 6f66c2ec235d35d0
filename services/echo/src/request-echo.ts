import type { IncomingMessage } from "node:http";

/** Query or form arguments the way httpbin prints them: one value as a string, repeated keys as a list. */
export type HttpbinArgs = Record<string, string | string[]>;

/** Collects `URLSearchParams` into httpbin's `args` shape. */
export function argsOf(params: URLSearchParams): HttpbinArgs {
  const args: HttpbinArgs = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    args[key] = values.length === 1 ? values[0]! : values;
  }
  return args;
}

/**
 * Request headers with httpbin's Title-Case names (`User-Agent`, `X-Request-Id`). Repeated headers are
 * joined with a comma, as an HTTP/1.1 intermediary may do.
 */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = titleCase(raw[i]!);
    const value = raw[i + 1]!;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return headers;
}

function titleCase(name: string): string {
  return name
    .toLowerCase()
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("-");
}

/** The caller's address: the `X-Forwarded-For` chain when a proxy set one (as httpbin reports it), else the peer. */
export function originOf(req: IncomingMessage): string {
  const forwarded = req.headers["x-forwarded-for"];
  const chain = Array.isArray(forwarded) ? forwarded.join(", ") : forwarded;
  return chain?.trim() || (req.socket.remoteAddress ?? "");
}

/** The absolute URL httpbin prints: scheme, the `Host` the client sent, path and query. */
export function urlOf(req: IncomingMessage): string {
  const proto = req.headers["x-forwarded-proto"];
  const scheme = typeof proto === "string" && /^https?$/.test(proto) ? proto : "http";
  return `${scheme}://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
}

/** httpbin's `data`, `form` and `json` fields derived from a request body. */
export interface BodyEcho {
  data: string;
  form: HttpbinArgs;
  json: unknown;
}

/**
 * Describes a request body the way httpbin does: form bodies go to `form`, text to `data` (and to `json` when it
 * parses), and bytes that are not UTF-8 to `data` as a base64 `data:` URL.
 */
export function bodyOf(body: Buffer, contentType: string | undefined): BodyEcho {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/x-www-form-urlencoded") {
    return { data: "", form: argsOf(new URLSearchParams(body.toString("utf8"))), json: null };
  }
  const text = decodeUtf8(body);
  if (text === undefined) {
    const mime = type || "application/octet-stream";
    return { data: `data:${mime};base64,${body.toString("base64")}`, form: {}, json: null };
  }
  let json: unknown = null;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null; // not JSON: httpbin reports null, the text is still in `data`
    }
  }
  return { data: text, form: {}, json };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(body: Buffer): string | undefined {
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}
