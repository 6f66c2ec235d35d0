/**
 * Envoy's HTTP attributes, `request.*` and `response.*` (envoy `source/extensions/filters/common/expr/
 * context.cc`), as `proxy_get_property` reads them on an HTTP stream: taken from the stream's headers,
 * body sizes, start time and local reply, and encoded as `properties.ts` encodes every attribute.
 */
import { toBytes, utf8String } from "../bytes.ts";
import type { HeaderMap } from "../header-map.ts";
import type { Clock } from "../services.ts";
import type { LocalReply } from "../types.ts";
import { Duration, encodeProperty } from "./properties.ts";

/** What the attributes read from an HTTP stream (an `HttpStream` is one). */
export interface HttpAttributeSource {
  readonly request: { readonly headers: HeaderMap | null; readonly bodySize: number };
  readonly response: {
    readonly headers: HeaderMap | null;
    readonly trailers: HeaderMap | null;
    readonly bodySize: number;
  };
  /** The local reply sent, if any (`response.code`, `response.code_details`). */
  readonly localReply: LocalReply | null;
  /** Wall time the stream started (`request.time`), in nanoseconds. */
  readonly startWallNs: bigint;
  readonly host: { readonly clock: Clock };
}

/** The encoded value of a `request.*` / `response.*` attribute, or undefined when not one (or absent). */
export function httpAttribute(
  stream: HttpAttributeSource,
  segments: readonly string[],
): Uint8Array | undefined {
  const head = segments[0];
  const attr = segments[1];
  const sub = segments[2];
  if (head === "request") return requestAttribute(stream, attr, sub, segments.length);
  if (head === "response") return responseAttribute(stream, attr, sub, segments.length);
  return undefined;
}

// Header names the attributes read, encoded once (not on every property read).
const PATH = toBytes(":path");
const AUTHORITY = toBytes(":authority");
const SCHEME = toBytes(":scheme");
const METHOD = toBytes(":method");
const REFERER = toBytes("referer");
const USER_AGENT = toBytes("user-agent");
const REQUEST_ID = toBytes("x-request-id");
const STATUS = toBytes(":status");
const HTTP_1_1 = "HTTP/1.1";

/** A request header's first value (a module function, not a closure made on every read). */
function requestHeader(stream: HttpAttributeSource, name: Uint8Array): Uint8Array | undefined {
  const h = stream.request.headers;
  return h ? h.get(name) : undefined;
}

function requestAttribute(
  stream: HttpAttributeSource,
  attr: string | undefined,
  sub: string | undefined,
  depth: number,
): Uint8Array | undefined {
  const h = stream.request.headers;
  if (depth === 2) {
    switch (attr) {
      case "path":
        return requestHeader(stream, PATH);
      case "url_path": {
        const path = requestHeader(stream, PATH);
        if (!path) return undefined;
        const q = path.indexOf(0x3f);
        return q < 0 ? path : path.subarray(0, q);
      }
      case "query": {
        const path = requestHeader(stream, PATH);
        if (!path) return undefined;
        const q = path.indexOf(0x3f);
        return q < 0 ? new Uint8Array(0) : path.subarray(q + 1);
      }
      case "host":
        return requestHeader(stream, AUTHORITY);
      case "scheme":
        return requestHeader(stream, SCHEME);
      case "method":
        return requestHeader(stream, METHOD);
      case "referer":
        return requestHeader(stream, REFERER);
      case "useragent":
        return requestHeader(stream, USER_AGENT);
      case "id":
        return requestHeader(stream, REQUEST_ID);
      case "protocol":
        return toBytes(HTTP_1_1);
      case "time":
        return encodeProperty(stream.startWallNs);
      case "size":
        return encodeProperty(stream.request.bodySize);
      case "duration": {
        const now = stream.host.clock.wallNanoseconds();
        return encodeProperty(new Duration(now - stream.startWallNs));
      }
      case "headers":
        return h ? mapProperty(h) : undefined;
    }
    return undefined;
  }
  if (depth === 3 && attr === "headers" && h && sub !== undefined) return joinedHeader(h, sub);
  return undefined;
}

function responseAttribute(
  stream: HttpAttributeSource,
  attr: string | undefined,
  sub: string | undefined,
  depth: number,
): Uint8Array | undefined {
  const h = stream.response.headers;
  if (depth === 2) {
    switch (attr) {
      case "code": {
        const status = h?.get(STATUS);
        if (stream.localReply) return encodeProperty(stream.localReply.statusCode);
        return status ? encodeProperty(Number(utf8String(status))) : undefined;
      }
      case "code_details":
        return stream.localReply ? toBytes(stream.localReply.details) : toBytes("via_upstream");
      case "size":
        return encodeProperty(stream.response.bodySize);
      case "headers":
        return h ? mapProperty(h) : undefined;
      case "trailers":
        return stream.response.trailers ? mapProperty(stream.response.trailers) : undefined;
    }
    return undefined;
  }
  if (depth === 3 && attr === "headers" && h && sub !== undefined) return joinedHeader(h, sub);
  return undefined;
}

/** A header map as a property value (the pair serialization). */
function mapProperty(map: HeaderMap): Uint8Array {
  return map.serialize();
}

/** All values of a header joined with "," (Envoy's `request.headers[name]`); the name in any case. */
function joinedHeader(map: HeaderMap, name: string): Uint8Array | undefined {
  const values = map.getAll(toBytes(name));
  if (values.length === 0) return undefined;
  if (values.length === 1) return values[0];
  return toBytes(values.map(utf8String).join(","));
}
