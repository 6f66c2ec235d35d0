import { isIP } from "node:net";

/** A host name the discovery service can look up: lower-case, no port, no trailing dot. */
export type HostName = string & { readonly __brand: "HostName" };

/** Why a host string was refused. */
export class MalformedHostError extends Error {
  override name = "MalformedHostError";
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Normalises what a plugin sends (usually the request's `:authority`): drops a port, lower-cases, removes a
 * trailing dot. WHATWG URL parsing does the heavy lifting (IDN to punycode, bracketed IPv6, port syntax);
 * the label rules of RFC 1123 are checked on top because URL parsing accepts more than DNS does.
 */
export function parseHost(input: string): HostName {
  if (input.length === 0)
    throw new MalformedHostError("host is empty; expected a name such as api.example.com");
  if (input.length > 300)
    throw new MalformedHostError(`host is ${input.length} characters long; at most 253 expected`);
  let url: URL;
  try {
    url = new URL(`http://${input}`);
  } catch {
    throw new MalformedHostError(`host ${JSON.stringify(input)} is not a valid host[:port]`);
  }
  if (url.username || url.password || url.pathname !== "/" || url.search || url.hash) {
    throw new MalformedHostError(`host ${JSON.stringify(input)} has more than host[:port] in it`);
  }
  let host = url.hostname;
  if (host.startsWith("[")) return host as HostName; // IPv6 literal, already canonical
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (isIP(host) === 4) return host as HostName;
  if (host.length > 253)
    throw new MalformedHostError(`host is ${host.length} characters long; at most 253 expected`);
  const bad = host.split(".").find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    throw new MalformedHostError(
      `host ${JSON.stringify(input)} has an invalid label ${JSON.stringify(bad)}; expected 1-63 letters, digits, "-" or "_"`,
    );
  }
  return host as HostName;
}
