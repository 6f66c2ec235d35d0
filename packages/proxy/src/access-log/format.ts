/**
 * Envoy access-log command operators (`%START_TIME%`, `%REQ(X?Y):N%`, ...), compiled once per logger.
 * Text templates print "-" for a missing value; JSON formats keep numbers as numbers, as Envoy does.
 */
import { hostname } from "node:os";
import { getJoinedHeader } from "../http/header-list.ts";
import type { StreamInfo } from "../stream-info.ts";

type Value = string | number | undefined;
type Operator = (info: StreamInfo) => Value;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** strftime subset for `%START_TIME(fmt)%` (UTC, like Envoy), plus Envoy's `%f`/`%3f`.. and `%s`. */
export function strftime(date: Date, format: string): string {
  return format.replace(/%([1-9]?)([a-zA-Z%])/g, (whole, digits: string, c: string) => {
    switch (c) {
      case "Y":
        return String(date.getUTCFullYear());
      case "m":
        return pad(date.getUTCMonth() + 1);
      case "d":
        return pad(date.getUTCDate());
      case "H":
        return pad(date.getUTCHours());
      case "M":
        return pad(date.getUTCMinutes());
      case "S":
        return pad(date.getUTCSeconds());
      case "f": {
        const width = digits ? Number(digits) : 9;
        return `${pad(date.getUTCMilliseconds(), 3)}000000`.slice(0, width);
      }
      case "s":
        return String(Math.floor(date.getTime() / 1000));
      case "z":
        return "+0000";
      case "Z":
        return "UTC";
      case "F":
        return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
      case "T":
        return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
      case "%":
        return "%";
      default:
        return whole;
    }
  });
}

function header(source: "req" | "resp" | "trailer", spec: string): Operator {
  const m = /^([^?)]+)(?:\?([^)]+))?\)(?::(\d+))?$/.exec(spec);
  if (!m) throw new Error(`malformed header operator argument ${JSON.stringify(spec)}`);
  const main = m[1]!.toLowerCase();
  const alt = m[2]?.toLowerCase();
  const max = m[3] ? Number(m[3]) : undefined;
  return (info) => {
    const headers =
      source === "req"
        ? info.requestHeaders
        : source === "resp"
          ? info.responseHeaders
          : info.responseTrailers;
    if (!headers) return undefined;
    let v = getJoinedHeader(headers, main);
    if (v === undefined && alt) v = getJoinedHeader(headers, alt);
    if (v !== undefined && max !== undefined) v = v.slice(0, max);
    return v;
  };
}

function withoutPort(address: string): string {
  if (address.startsWith("[")) return address.slice(1, address.indexOf("]"));
  const colon = address.lastIndexOf(":");
  return colon > 0 ? address.slice(0, colon) : address;
}

const hostName = hostname();

const SIMPLE: Record<string, Operator> = {
  START_TIME: (i) => i.startTime.toISOString(),
  UPSTREAM_CLUSTER: (i) => i.upstreamCluster,
  DOWNSTREAM_REMOTE_ADDRESS: (i) => i.downstreamRemoteAddress,
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (i) => withoutPort(i.downstreamRemoteAddress),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: (i) => i.downstreamRemoteAddress,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: (i) => withoutPort(i.downstreamRemoteAddress),
  DOWNSTREAM_LOCAL_ADDRESS: (i) => i.downstreamLocalAddress,
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (i) => withoutPort(i.downstreamLocalAddress),
  DOWNSTREAM_LOCAL_PORT: (i) =>
    Number(i.downstreamLocalAddress.slice(i.downstreamLocalAddress.lastIndexOf(":") + 1)),
  DOWNSTREAM_REMOTE_PORT: (i) =>
    Number(i.downstreamRemoteAddress.slice(i.downstreamRemoteAddress.lastIndexOf(":") + 1)),
  UPSTREAM_HOST: (i) => i.upstreamHost,
  UPSTREAM_LOCAL_ADDRESS: (i) => i.upstreamLocalAddress,
  UPSTREAM_TRANSPORT_FAILURE_REASON: (i) => i.upstreamTransportFailureReason || undefined,
  RESPONSE_CODE: (i) => i.responseCode ?? 0,
  RESPONSE_FLAGS: (i) => i.flagString(),
  RESPONSE_CODE_DETAILS: (i) => i.responseCodeDetails || undefined,
  CONNECTION_TERMINATION_DETAILS: (i) => i.connectionTerminationDetails || undefined,
  DURATION: (i) => i.durationMs(),
  REQUEST_DURATION: (i) => (i.endMs !== undefined ? i.durationMs() : undefined),
  RESPONSE_DURATION: (i) =>
    i.upstreamResponseStartMs !== undefined ? Math.floor(i.upstreamResponseStartMs - i.startMs) : undefined,
  RESPONSE_TX_DURATION: (i) =>
    i.upstreamResponseStartMs !== undefined && i.endMs !== undefined
      ? Math.floor(i.endMs - i.upstreamResponseStartMs)
      : undefined,
  BYTES_RECEIVED: (i) => i.bytesReceived,
  BYTES_SENT: (i) => i.bytesSent,
  PROTOCOL: (i) => i.protocol,
  ROUTE_NAME: (i) => i.routeName || undefined,
  VIRTUAL_CLUSTER_NAME: () => undefined,
  CONNECTION_ID: (i) => i.connectionId,
  HOSTNAME: () => hostName,
  REQUESTED_SERVER_NAME: (i) => i.requestedServerName || undefined,
  // stream_info_formatter.cc's downstream TLS operators: "-" off TLS or when the value is empty; SAN lists joined by ",".
  DOWNSTREAM_TLS_VERSION: (i) => i.downstreamSsl?.tlsVersion || undefined,
  DOWNSTREAM_LOCAL_SUBJECT: (i) => i.downstreamSsl?.subjectLocalCertificate || undefined,
  DOWNSTREAM_PEER_SUBJECT: (i) => i.downstreamSsl?.subjectPeerCertificate || undefined,
  DOWNSTREAM_LOCAL_URI_SAN: (i) => i.downstreamSsl?.uriSansLocalCertificate.join(",") || undefined,
  DOWNSTREAM_PEER_URI_SAN: (i) => i.downstreamSsl?.uriSansPeerCertificate.join(",") || undefined,
  DOWNSTREAM_LOCAL_DNS_SAN: (i) => i.downstreamSsl?.dnsSansLocalCertificate.join(",") || undefined,
  DOWNSTREAM_PEER_DNS_SAN: (i) => i.downstreamSsl?.dnsSansPeerCertificate.join(",") || undefined,
  DOWNSTREAM_PEER_FINGERPRINT_256: (i) => i.downstreamSsl?.sha256PeerCertificateDigest || undefined,
  UPSTREAM_REQUEST_ATTEMPT_COUNT: (i) => (i.upstreamHost ? 1 : 0),
  REQUEST_HEADERS_BYTES: (i) => (i.requestHeaders ?? []).reduce((n, [k, v]) => n + k.length + v.length, 0),
};

const NUMERIC = new Set([
  "RESPONSE_CODE",
  "DURATION",
  "REQUEST_DURATION",
  "RESPONSE_DURATION",
  "RESPONSE_TX_DURATION",
  "BYTES_RECEIVED",
  "BYTES_SENT",
  "CONNECTION_ID",
  "DOWNSTREAM_LOCAL_PORT",
  "DOWNSTREAM_REMOTE_PORT",
  "UPSTREAM_REQUEST_ATTEMPT_COUNT",
  "REQUEST_HEADERS_BYTES",
]);

function compileOperator(name: string, arg: string | undefined): Operator {
  if (arg !== undefined) {
    switch (name) {
      case "REQ":
        return header("req", arg);
      case "RESP":
        return header("resp", arg);
      case "TRAILER":
        return header("trailer", arg);
      case "START_TIME": {
        const fmt = arg.slice(0, -1);
        return (i) => strftime(i.startTime, fmt);
      }
      case "FILTER_STATE": {
        const key = arg.slice(0, arg.indexOf(")"));
        return (i) => {
          const v = i.filterState.get(key);
          return v === undefined ? undefined : JSON.stringify(Buffer.from(v).toString("utf8"));
        };
      }
      case "ENVIRONMENT": {
        const m = /^([^)]+)\)(?::(\d+))?$/.exec(arg);
        if (!m) throw new Error(`malformed ENVIRONMENT argument ${JSON.stringify(arg)}`);
        const value = process.env[m[1]!];
        return () => (value === undefined ? undefined : m[2] ? value.slice(0, Number(m[2])) : value);
      }
    }
    throw new Error(`unsupported access log operator %${name}(${arg}%`);
  }
  const op = SIMPLE[name];
  if (!op) throw new Error(`unsupported access log operator %${name}%`);
  return op;
}

type Part = string | { op: Operator; numeric: boolean };

/**
 * Splits a template into literal text and operators; throws naming the first unknown operator. An argument
 * runs to the first ")%" or "):N%" (so `%START_TIME(%Y/%m/%d)%` keeps its inner % signs).
 */
function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let text = "";
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== "%") {
      text += c;
      i++;
      continue;
    }
    if (template[i + 1] === "%") {
      text += "%";
      i += 2;
      continue;
    }
    const m = /^%([A-Z_0-9]+)(%|\()/.exec(template.slice(i));
    if (!m) {
      text += c;
      i++;
      continue;
    }
    const name = m[1]!;
    let arg: string | undefined;
    if (m[2] === "%") i += m[0].length;
    else {
      const rest = template.slice(i + m[0].length);
      const end = /\)(?::\d+)?%/.exec(rest);
      if (!end) throw new Error(`unterminated access log operator %${name}(`);
      // The argument keeps its ")" and any ":N" so each operator parses its own form.
      arg = rest.slice(0, end.index + end[0].length - 1);
      i += m[0].length + end.index + end[0].length;
    }
    if (text) parts.push(text);
    text = "";
    parts.push({ op: compileOperator(name, arg), numeric: NUMERIC.has(name) });
  }
  if (text) parts.push(text);
  return parts;
}

export type LogFormatter = (info: StreamInfo) => string;

export function compileTextFormat(template: string): LogFormatter {
  const parts = parseTemplate(template);
  return (info) => {
    let out = "";
    for (const p of parts) {
      if (typeof p === "string") out += p;
      else {
        const v = p.op(info);
        out += v === undefined || v === "" ? "-" : String(v);
      }
    }
    return out;
  };
}

export function compileJsonFormat(fields: Record<string, unknown>): LogFormatter {
  const compileValue = (value: unknown): ((info: StreamInfo) => unknown) => {
    if (typeof value === "string") {
      const parts = parseTemplate(value);
      if (parts.length === 1 && typeof parts[0] !== "string") {
        const { op, numeric } = parts[0]!;
        return (info) => {
          const v = op(info);
          if (v === undefined || v === "") return null;
          return numeric ? Number(v) : v;
        };
      }
      const text = compileTextFormat(value);
      return (info) => text(info);
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const inner = Object.entries(value).map(([k, v]) => [k, compileValue(v)] as const);
      return (info) => Object.fromEntries(inner.map(([k, f]) => [k, f(info)]));
    }
    return () => value;
  };
  const root = compileValue(fields);
  return (info) => `${JSON.stringify(root(info))}\n`;
}
