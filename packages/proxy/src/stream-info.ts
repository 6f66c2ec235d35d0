/**
 * What happened on one HTTP request or TCP connection: addresses, timing, byte counts, the chosen
 * upstream, the response code and Envoy's response flags. Access logs and plugin properties read it.
 */
import type { ListenerIdentity } from "./config/model.ts";
import type { HeaderList } from "./http/header-list.ts";

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

let nextConnectionId = 1;
export function newConnectionId(): number {
  return nextConnectionId++;
}

export class StreamInfo {
  readonly startTime = new Date();
  readonly startNs = process.hrtime.bigint();
  endNs: bigint | undefined;
  /** First byte sent downstream (ns), for %RESPONSE_DURATION%. */
  firstDownstreamTxNs: bigint | undefined;
  upstreamRequestStartNs: bigint | undefined;
  upstreamResponseStartNs: bigint | undefined;
  protocol: string | undefined;
  requestHeaders: HeaderList | undefined;
  responseHeaders: HeaderList | undefined;
  responseTrailers: HeaderList | undefined;
  responseCode: number | undefined;
  responseCodeDetails = "";
  readonly flags = new Set<ResponseFlag>();
  bytesReceived = 0;
  bytesSent = 0;
  upstreamCluster: string | undefined;
  upstreamHost: string | undefined;
  upstreamLocalAddress: string | undefined;
  upstreamTransportFailureReason = "";
  routeName: string | undefined;
  virtualHostName: string | undefined;
  connectionTerminationDetails = "";
  /** Envoy filter state set by plugins (`set_envoy_filter_state`), by key. */
  readonly filterState = new Map<string, Uint8Array>();

  constructor(
    readonly connectionId: number,
    readonly downstreamRemoteAddress: string,
    readonly downstreamLocalAddress: string,
    readonly listener: ListenerIdentity,
  ) {}

  setFlag(flag: ResponseFlag): void {
    this.flags.add(flag);
  }

  /** `%RESPONSE_FLAGS%`: "-" when none. */
  flagString(): string {
    if (this.flags.size === 0) return "-";
    return RESPONSE_FLAG_ORDER.filter((f) => this.flags.has(f)).join(",");
  }

  finish(): void {
    if (this.endNs === undefined) this.endNs = process.hrtime.bigint();
  }

  /** Milliseconds from start to `endNs` (or now). */
  durationMs(): number {
    const end = this.endNs ?? process.hrtime.bigint();
    return Number((end - this.startNs) / 1_000_000n);
  }
}

/** `ip:port`, with brackets for IPv6 and IPv4-mapped IPv6 shown as IPv4 (what Envoy reports). */
export function formatAddress(ip: string | undefined, port: number | undefined): string {
  if (!ip) return "";
  const plain = ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
  return plain.includes(":") ? `[${plain}]:${port ?? 0}` : `${plain}:${port ?? 0}`;
}
