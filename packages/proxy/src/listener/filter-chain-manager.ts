/**
 * Picks a connection's filter chain as Envoy's FilterChainManagerImpl::findFilterChain does
 * (source/common/listener_manager/filter_chain_manager_impl.cc): level by level — destination port,
 * destination IP, server name, transport protocol, application protocols, source type, source IP, source
 * port — the most specific entry at each level wins and the search commits to it: a connection that matches a
 * chain's server name but not its transport protocol does not fall back to a chain without a server name.
 * Nothing found means the default filter chain, if any.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { CidrRange, FilterChainConfig } from "../config/filter-chain-config.ts";

/** What the listener knows of a connection when it picks a chain (the socket and the listener filters). */
export interface ConnectionMatchInput {
  destinationPort: number;
  sourceIp: string;
  /** tls_inspector's SNI, lower-cased ("" = none). */
  serverName: string;
  /** "tls" from tls_inspector, else "raw_buffer" (ActiveTcpSocket::newConnection's default). */
  transportProtocol: string;
  /** tls_inspector's ALPN list, in the client's order. */
  applicationProtocols: string[];
}

function ipBits(ip: string): { bits: bigint; width: number } | undefined {
  const plain = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(plain)) {
    const n = plain.split(".").reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
    return { bits: n, width: 32 };
  }
  if (!isIPv6(plain)) return undefined;
  const [head, tail] = plain.split("::") as [string, string | undefined];
  const parts = (s: string | undefined) => (s ? s.split(":") : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const n = groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
  return { bits: n, width: 128 };
}

/** How long a prefix of `range` the address matches, or -1. */
function cidrMatch(range: CidrRange, ip: string): number {
  const a = ipBits(ip);
  const r = ipBits(range.address);
  if (!a || !r || a.width !== r.width) return -1;
  const shift = BigInt(a.width - range.prefixLen);
  return a.bits >> shift === r.bits >> shift ? range.prefixLen : -1;
}

type Level = (chains: FilterChainConfig[], c: ConnectionMatchInput) => FilterChainConfig[];

/** findFilterChainForServerName: exact name, then `*.` wildcards from the longest suffix, then chains without names. */
const byServerName: Level = (chains, c) => {
  const name = c.serverName;
  const exact = chains.filter((ch) => name !== "" && ch.match.serverNames.includes(name));
  if (exact.length > 0) return exact;
  for (let pos = name.indexOf(".", 1); pos >= 0 && pos < name.length - 1; pos = name.indexOf(".", pos + 1)) {
    const wildcard = `*${name.slice(pos)}`;
    const hits = chains.filter((ch) => ch.match.serverNames.includes(wildcard));
    if (hits.length > 0) return hits;
  }
  return chains.filter((ch) => ch.match.serverNames.length === 0);
};

/** findFilterChainForTransportProtocol: exact, else chains without one. */
const byTransportProtocol: Level = (chains, c) => {
  const exact = chains.filter((ch) => ch.match.transportProtocol === c.transportProtocol);
  return exact.length > 0 ? exact : chains.filter((ch) => ch.match.transportProtocol === "");
};

/** findFilterChainForApplicationProtocols: the client's protocols in its order, else chains without any. */
const byApplicationProtocols: Level = (chains, c) => {
  for (const p of c.applicationProtocols) {
    const hits = chains.filter((ch) => ch.match.applicationProtocols.includes(p));
    if (hits.length > 0) return hits;
  }
  return chains.filter((ch) => ch.match.applicationProtocols.length === 0);
};

/** findFilterChainForSourceIpAndPort: the longest matching source prefix; no ranges is the catch-all /0. */
const bySourceIp: Level = (chains, c) => {
  let best = -1;
  let hits: FilterChainConfig[] = [];
  for (const ch of chains) {
    const len =
      ch.match.sourcePrefixRanges.length === 0
        ? 0
        : Math.max(...ch.match.sourcePrefixRanges.map((r) => cidrMatch(r, c.sourceIp)));
    if (len < 0 || len < best) continue;
    if (len > best) {
      best = len;
      hits = [];
    }
    hits.push(ch);
  }
  return hits;
};

const LEVELS: Level[] = [byServerName, byTransportProtocol, byApplicationProtocols, bySourceIp];

export class FilterChainManager {
  constructor(
    private readonly chains: FilterChainConfig[],
    private readonly defaultChain: FilterChainConfig | undefined,
  ) {}

  find(c: ConnectionMatchInput): FilterChainConfig | undefined {
    // Destination port: a chain naming this port takes the connection, or none does (no fallback to port 0).
    const onPort = this.chains.filter((ch) => ch.match.destinationPort === c.destinationPort);
    const candidates =
      onPort.length > 0 ? onPort : this.chains.filter((ch) => ch.match.destinationPort === 0);
    let remaining = candidates;
    for (const level of LEVELS) {
      if (remaining.length === 0) break;
      remaining = level(remaining, c);
    }
    return remaining[0] ?? this.defaultChain;
  }
}
