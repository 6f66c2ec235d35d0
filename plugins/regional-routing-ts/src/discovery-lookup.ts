// Talking to the discovery service: the host of a request's :authority, the lookup path, and reading the
// answer. Answers are untrusted: anything but a 200 with a JSON region is a failure with a reason.

import type { CalloutResponse } from "@proxy-wasm-ts/js";
import type { RouterConfig } from "./router-config.ts";

/** Largest discovery answer read; the service's answers are a few hundred bytes. */
const MAX_ANSWER_BYTES = 16 * 1024;

/** A region, or the reason there is none. */
export type LookupResult = { region: string } | { reason: string };

/** `:authority` without port, lower-cased (the discovery service ignores ports too); null if unusable. */
export function hostOfAuthority(authority: string): string | null {
  if (authority.length === 0 || authority.length > 255) return null;
  let host = authority;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close < 0) return null;
    host = host.slice(0, close + 1);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) host = host.slice(0, colon);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters make a host unusable.
  if (host.length === 0 || /[\x00-\x20\x7f]/.test(host)) return null;
  return host.toLowerCase();
}

/** The `:path` that asks the discovery service for `host`'s region (RFC 3986 unreserved kept as is). */
export function lookupPath(config: RouterConfig, host: string): string {
  const separator = config.discoveryPath.includes("?") ? "&" : "?";
  const encoded = encodeURIComponent(host).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${config.discoveryPath}${separator}host=${encoded}`;
}

/** Reads a discovery answer. */
export function readLookupAnswer(response: CalloutResponse, config: RouterConfig): LookupResult {
  const { status } = response;
  if (status === 404) return { reason: "discovery service knows no region for this host" };
  if (status !== 200) return { reason: `discovery service answered HTTP ${status}` };
  if (response.body.length > MAX_ANSWER_BYTES) {
    return { reason: `discovery answer of ${response.body.length} bytes is too large` };
  }
  let json: unknown;
  try {
    json = response.json();
  } catch {
    return { reason: "discovery answer is not a JSON object" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { reason: "discovery answer is not a JSON object" };
  }
  // Our discovery service answers {region, args: {region}}; the seed read httpbin's args.region.
  const answer = json as { region?: unknown; args?: { region?: unknown } };
  const region = answer.region ?? answer.args?.region;
  if (typeof region !== "string") return { reason: "discovery answer has no string region" };
  if (!config.acceptsRegion(region)) {
    return { reason: "discovery answered a region that is not an allowed cluster name" };
  }
  return { region };
}
