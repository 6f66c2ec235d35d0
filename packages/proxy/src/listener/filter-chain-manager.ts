/**
 * Picks a connection's filter chain as Envoy's FilterChainManagerImpl::findFilterChain does
 * (source/common/listener_manager/filter_chain_manager_impl.cc): level by level — destination port,
 * destination IP, server name, transport protocol, application protocols, direct source IP, source type,
 * source IP, source port — the most specific entry at each level wins and the search commits to it: a connection that matches a
 * chain's server name but not its transport protocol does not fall back to a chain without a server name.
 * Nothing found means the default filter chain, if any.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { CidrRange, FilterChainConfig } from "../config/filter-chain-config.ts";

/** What the listener knows of a connection when it picks a chain (the socket and the listener filters). */
export interface ConnectionMatchInput {
  destinationPort: number;
  destinationIp: string;
  sourceIp: string;
  sourcePort: number;
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

/**
 * A longest-prefix level (findFilterChainForDestinationIP, ...ForDirectSourceIP, ...ForSourceIpAndPort): the
 * chains whose ranges hold `ip` with the longest prefix; a chain without ranges is the catch-all /0.
 */
function byLongestPrefix(
  ranges: (ch: FilterChainConfig) => CidrRange[],
  ip: (c: ConnectionMatchInput) => string,
): Level {
  return (chains, c) => {
    let best = -1;
    let hits: FilterChainConfig[] = [];
    for (const ch of chains) {
      const own = ranges(ch);
      const len = own.length === 0 ? 0 : Math.max(...own.map((r) => cidrMatch(r, ip(c))));
      if (len < 0 || len < best) continue;
      if (len > best) {
        best = len;
        hits = [];
      }
      hits.push(ch);
    }
    return hits;
  };
}

/** Loopback, or the same address as the local end (Envoy's Network::Utility::isSameIpOrLoopback). */
function isSameIpOrLoopback(c: ConnectionMatchInput): boolean {
  const plain = (ip: string) => (ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip);
  const source = plain(c.sourceIp);
  return source === plain(c.destinationIp) || source === "::1" || source.startsWith("127.");
}

/** findFilterChainForSourceTypes: the connection's own type (local or external) if a chain names it, else ANY. */
const bySourceType: Level = (chains, c) => {
  const type = isSameIpOrLoopback(c) ? "SAME_IP_OR_LOOPBACK" : "EXTERNAL";
  const exact = chains.filter((ch) => ch.match.sourceType === type);
  return exact.length > 0 ? exact : chains.filter((ch) => ch.match.sourceType === "ANY");
};

/** The source port: chains naming it, else chains without ports. */
const bySourcePort: Level = (chains, c) => {
  const exact = chains.filter((ch) => ch.match.sourcePorts.includes(c.sourcePort));
  return exact.length > 0 ? exact : chains.filter((ch) => ch.match.sourcePorts.length === 0);
};

// filter_chain_manager_impl.cc's level order, after the destination port.
const LEVELS: Level[] = [
  byLongestPrefix(
    (ch) => ch.match.prefixRanges,
    (c) => c.destinationIp,
  ),
  byServerName,
  byTransportProtocol,
  byApplicationProtocols,
  byLongestPrefix(
    (ch) => ch.match.directSourcePrefixRanges,
    (c) => c.sourceIp,
  ),
  bySourceType,
  byLongestPrefix(
    (ch) => ch.match.sourcePrefixRanges,
    (c) => c.sourceIp,
  ),
  bySourcePort,
];

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
