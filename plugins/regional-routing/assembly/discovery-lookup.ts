// Talking to the discovery service: the cache key for a request's :authority, the lookup path, and
// reading the answer. Answers are untrusted: anything but a 200 with a JSON region is a failure
// with a reason, never a trap.

import { HttpCallResponse, JsonKind, JsonValue, parseJsonBytes } from "@proxy-wasm-ts/sdk/assembly";
import { RouterConfig } from "./router-config";

/** Largest discovery answer read; the service's answers are a few hundred bytes. */
const MAX_ANSWER_BYTES: u32 = 16 * 1024;

/** `:authority` without port, lower-cased (the discovery service ignores ports too); null if unusable. */
export function hostOfAuthority(authority: string): string | null {
  if (authority.length == 0 || authority.length > 255) return null;
  let host = authority;
  if (host.charCodeAt(0) == 91) {
    const close = host.indexOf("]");
    if (close < 0) return null;
    host = host.substring(0, close + 1);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) host = host.substring(0, colon);
  }
  if (host.length == 0) return null;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c <= 0x20 || c == 0x7f) return null;
  }
  return host.toLowerCase();
}

const HEX = "0123456789ABCDEF";

/** Percent-encodes everything but RFC 3986 unreserved characters (UTF-8 first). */
function encodeQueryValue(value: string): string {
  const bytes = Uint8Array.wrap(String.UTF8.encode(value));
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    const unreserved = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 95 || c == 126;
    if (unreserved) out += String.fromCharCode(c);
    else out += "%" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
  }
  return out;
}

/** The `:path` that asks the discovery service for `host`'s region. */
export function lookupPath(config: RouterConfig, host: string): string {
  const separator = config.discoveryPath.includes("?") ? "&" : "?";
  return config.discoveryPath + separator + "host=" + encodeQueryValue(host);
}

/** A region, or the reason there is none. */
export class LookupResult {
  constructor(
    readonly region: string | null,
    readonly reason: string,
  ) {}

  static found(region: string): LookupResult {
    return new LookupResult(region, "");
  }
  static failed(reason: string): LookupResult {
    return new LookupResult(null, reason);
  }
}

function regionIn(json: JsonValue): JsonValue | null {
  // Our discovery service answers {region, args: {region}}; the seed read httpbin's args.region.
  const top = json.get("region");
  if (top !== null) return top;
  const args = json.getObject("args");
  return args === null ? null : args.get("region");
}

/** Reads a discovery answer (inside `onHttpCallResponse`). */
export function readLookupAnswer(response: HttpCallResponse, config: RouterConfig): LookupResult {
  if (response.failed) return LookupResult.failed("discovery service did not answer (timeout or connection failure)");
  const status = response.statusCode;
  if (status == 404) return LookupResult.failed("discovery service knows no region for this host");
  if (status != 200) return LookupResult.failed(`discovery service answered HTTP ${status}`);
  if (response.bodySize > MAX_ANSWER_BYTES) {
    return LookupResult.failed(`discovery answer of ${response.bodySize} bytes is too large`);
  }
  const json = parseJsonBytes(response.body());
  if (json === null || !json.isObject) return LookupResult.failed("discovery answer is not a JSON object");
  const region = regionIn(json);
  if (region === null || region.kind != JsonKind.String) {
    return LookupResult.failed("discovery answer has no string region");
  }
  if (!config.acceptsRegion(region.stringValue)) {
    return LookupResult.failed("discovery answered a region that is not an allowed cluster name");
  }
  return LookupResult.found(region.stringValue);
}
