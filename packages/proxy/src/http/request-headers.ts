/**
 * The request header edits Envoy's connection manager makes before any filter runs
 * (ConnectionManagerUtility::mutateRequestHeaders): hop-by-hop removal, x-forwarded-for/-proto,
 * x-request-id, and dropping x-envoy-* headers that external clients must not inject.
 */
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import type { HttpConnectionManagerConfig } from "../config/model.ts";
import { getHeader, type HeaderList, isHopByHop, setHeader } from "./header-list.ts";

/** RFC 1918, loopback and unique-local addresses: what Envoy treats as internal by default. */
export function isInternalAddress(ip: string): boolean {
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split(".").map(Number) as [number, number];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  return ip === "::1" || /^f[cd]/i.test(ip);
}

/** The downstream peer as the header edits need it; computed once per connection. */
export interface DownstreamPeer {
  /** IP without the IPv4-mapped prefix. */
  ip: string;
  internal: boolean;
}

export function downstreamPeer(remoteAddress: string | undefined): DownstreamPeer {
  const ip = remoteAddress ?? "";
  const plain = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return { ip: plain, internal: isInternalAddress(plain) };
}

export function mutateRequestHeaders(
  headers: HeaderList,
  config: HttpConnectionManagerConfig,
  peer: DownstreamPeer,
  scheme: "http" | "https",
): void {
  for (let i = headers.length - 1; i >= 0; i--) {
    const [name, value] = headers[i]!;
    if (isHopByHop(name) && !(name === "te" && value.trim().toLowerCase() === "trailers"))
      headers.splice(i, 1);
  }
  const plainIp = peer.ip;
  let internal: boolean;
  if (config.useRemoteAddress) {
    internal = peer.internal;
    if (!config.skipXffAppend) {
      const xff = getHeader(headers, "x-forwarded-for");
      setHeader(headers, "x-forwarded-for", xff ? `${xff},${plainIp}` : plainIp);
    }
    setHeader(headers, "x-forwarded-proto", scheme);
    if (internal) setHeader(headers, "x-envoy-internal", "true");
  } else {
    const xff = getHeader(headers, "x-forwarded-for");
    internal = xff === undefined ? peer.internal : !xff.includes(",") && isInternalAddress(xff.trim());
    if (getHeader(headers, "x-forwarded-proto") === undefined) headers.push(["x-forwarded-proto", scheme]);
  }
  if (!internal) {
    for (let i = headers.length - 1; i >= 0; i--)
      if (headers[i]![0].startsWith("x-envoy-")) headers.splice(i, 1);
  }
  if (config.generateRequestId) {
    const id = getHeader(headers, "x-request-id");
    // Envoy keeps the caller's id for internal requests and replaces it for external ones at the edge.
    if (id === undefined || (!internal && config.useRemoteAddress))
      setHeader(headers, "x-request-id", randomUUID());
  }
}
