/**
 * The network (L4) filter contract between a TCP session and its filters (the Wasm network filter adapter
 * implements it). Data in either direction may be held (stop) and changed; closes reach the filters.
 */
import type { BodyBuffer, FilterStatus } from "../http/http-filter.ts";
import type { StreamInfo } from "../stream-info.ts";

export type PeerType = "local" | "remote";

export interface NetworkFilter {
  onNewConnection(): FilterStatus;
  onDownstreamData(data: BodyBuffer, endOfStream: boolean): FilterStatus;
  onUpstreamData(data: BodyBuffer, endOfStream: boolean): FilterStatus;
  /** Bytes released when the filter resumes after stopping on data. */
  drainDownstream(): Buffer;
  drainUpstream(): Buffer;
  onDownstreamClose(peer: PeerType): void;
  onUpstreamClose(peer: PeerType): void;
  onLog(): void;
  onDestroy(): void;
}

export interface NetworkFilterCallbacks {
  readonly streamInfo: StreamInfo;
  /** Resumes after a filter stopped on new connection or downstream data. */
  continueReading(): void;
  /** Resumes after a filter stopped on upstream data. */
  continueWriting(): void;
  /** Closes the connection (both sides). */
  close(): void;
}

export type NetworkFilterFactory = (callbacks: NetworkFilterCallbacks) => NetworkFilter;
