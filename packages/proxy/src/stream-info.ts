/**
 * What happened on one HTTP request or TCP connection: addresses, timing, byte counts, the chosen
 * upstream, the response code and Envoy's response flags. Access logs and plugin properties read it.
 */
import type { ListenerIdentity } from "./config/model.ts";
import type { HeaderList } from "./http/header-list.ts";
import type { ConnectionFacts } from "./listener/connection-facts.ts";
import type { DownstreamSslInfo } from "./tls/downstream-ssl-info.ts";

/** Envoy response flags, in the order Envoy prints them (comma separated). */
export const RESPONSE_FLAG_ORDER = [
  "LH",
  "UH",
  "UT",
  "LR",
  "UR",
  "UF",
  "UC",
  "UO",
  "NR",
  "DI",
  "FI",
  "RL",
  "UAEX",
  "RLSE",
  "DC",
  "URX",
  "SI",
  "IH",
  "DPE",
  "UMSDR",
  "RFCF",
  "NFCF",
  "DT",
  "UPE",
  "NC",
  "OM",
  "DF",
  "DO",
  "DR",
] as const;
export type ResponseFlag = (typeof RESPONSE_FLAG_ORDER)[number];
// Bits of a 32-bit integer: room for 31 flags.
const FLAG_BIT = new Map<ResponseFlag, number>(RESPONSE_FLAG_ORDER.map((f, i) => [f, 2 ** i]));

let nextConnectionId = 1;
export function newConnectionId(): number {
  return nextConnectionId++;
}

// One StreamInfo is made per request, so it allocates nothing it may not need: flags are bits, and the
// start Date and the filter-state map are made on first use.
export class StreamInfo {
  /** Wall-clock start (ms since the epoch). */
  readonly startEpochMs = Date.now();
  // Monotonic times in ms from performance.now() (doubles, no BigInt arithmetic per request).
  readonly startMs = performance.now();
  endMs: number | undefined;
  /** First byte sent downstream. */
  firstDownstreamTxMs: number | undefined;
  upstreamRequestStartMs: number | undefined;
  upstreamResponseStartMs: number | undefined;
  protocol: string | undefined;
  requestHeaders: HeaderList | undefined;
  responseHeaders: HeaderList | undefined;
  responseTrailers: HeaderList | undefined;
  responseCode: number | undefined;
  responseCodeDetails = "";
  /** Response flags as bits, in RESPONSE_FLAG_ORDER. */
  private flagBits = 0;
  bytesReceived = 0;
  bytesSent = 0;
  upstreamCluster: string | undefined;
  upstreamHost: string | undefined;
  upstreamLocalAddress: string | undefined;
  upstreamTransportFailureReason = "";
  routeName: string | undefined;
  virtualHostName: string | undefined;
  connectionTerminationDetails = "";
  /** The SNI the listener's tls_inspector read ("" = none). */
  requestedServerName = "";
  /** The downstream TLS connection, when the chain terminates TLS. */
  downstreamSsl: DownstreamSslInfo | undefined = undefined;
  private filterStateMap: Map<string, Uint8Array> | undefined;

  constructor(
    readonly connectionId: number,
    readonly downstreamRemoteAddress: string,
    readonly downstreamLocalAddress: string,
    readonly listener: ListenerIdentity,
  ) {}

  /** Takes what the listener stage learned of the connection (SNI, TLS). */
  setConnectionFacts(facts: ConnectionFacts): void {
    this.requestedServerName = facts.requestedServerName;
    this.downstreamSsl = facts.ssl;
  }

  get startTime(): Date {
    return new Date(this.startEpochMs);
  }

  /** Envoy filter state set by plugins (`set_envoy_filter_state`), by key. */
  get filterState(): Map<string, Uint8Array> {
    this.filterStateMap ??= new Map();
    return this.filterStateMap;
  }

  setFlag(flag: ResponseFlag): void {
    this.flagBits |= FLAG_BIT.get(flag)!;
  }

  hasFlag(flag: ResponseFlag): boolean {
    return (this.flagBits & FLAG_BIT.get(flag)!) !== 0;
  }

  /** `%RESPONSE_FLAGS%`: "-" when none. */
  flagString(): string {
    if (this.flagBits === 0) return "-";
    return RESPONSE_FLAG_ORDER.filter((f) => this.hasFlag(f)).join(",");
  }

  finish(): void {
    if (this.endMs === undefined) this.endMs = performance.now();
  }

  /** Whole milliseconds from start to `endMs` (or now), as Envoy's %DURATION%. */
  durationMs(): number {
    return Math.floor((this.endMs ?? performance.now()) - this.startMs);
  }
}

/** `ip:port`, with brackets for IPv6 and IPv4-mapped IPv6 shown as IPv4 (what Envoy reports). */
export function formatAddress(ip: string | undefined, port: number | undefined): string {
  if (!ip) return "";
  const plain = ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
  return plain.includes(":") ? `[${plain}]:${port ?? 0}` : `${plain}:${port ?? 0}`;
}
