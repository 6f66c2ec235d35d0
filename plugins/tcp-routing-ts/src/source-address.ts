// Envoy's `source.address` values: "10.0.0.1:42148", "[2001:db8::7]:42148", and the same without a port
// (pipes and some listeners report a bare address). ipaddr.js parses the address; this file only splits
// off the port. Bytes, not text, decide routing, so "::ffff:10.0.0.11" routes as "10.0.0.11".

import ipaddr from "ipaddr.js";

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

function parsePort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535;
}

function parseHost(host: string): IpAddress | null {
  if (host.includes(":")) {
    if (!ipaddr.IPv6.isValid(host)) return null;
    const v6 = ipaddr.IPv6.parse(host);
    // An IPv4 peer on a dual-stack socket routes as its IPv4 address.
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  }
  // Four decimal parts only: ipaddr.js also accepts "10.0.0" and hex forms, which Envoy never reports.
  return ipaddr.IPv4.isValidFourPartDecimal(host) ? ipaddr.IPv4.parse(host) : null;
}

/** The IP address of `text` (with or without port), or null when it is not one. */
export function parseSourceAddress(text: string): IpAddress | null {
  if (text.length === 0 || text.length > 64) return null;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    const rest = text.slice(close + 1);
    if (close < 0 || (rest !== "" && !(rest.startsWith(":") && parsePort(rest.slice(1))))) return null;
    return parseHost(text.slice(1, close));
  }
  const colons = text.split(":").length - 1;
  if (colons === 1) {
    const [host = "", port = ""] = text.split(":");
    return parsePort(port) ? parseHost(host) : null;
  }
  return parseHost(text);
}

/** The last byte: the IPv4 last octet, or the low byte of IPv6's last hex group. */
export const lastByte = (address: IpAddress): number => address.toByteArray().at(-1) ?? 0;
