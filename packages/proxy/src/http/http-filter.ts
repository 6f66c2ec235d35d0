/**
 * The HTTP filter contract between the stream and its filters (the Wasm filter adapter implements it).
 * Mirrors Envoy's StreamDecoderFilter/StreamEncoderFilter: a filter may stop iteration and later resume
 * it, may replace the body it is shown, and may answer the request itself.
 */

import type { StreamInfo } from "../stream-info.ts";
import type { HeaderList } from "./header-list.ts";
import type { SelectedRoute } from "./route-table.ts";

/** "stop" on headers holds headers and buffers body until the filter resumes (StopAllIterationAndBuffer). */
export type FilterStatus = "continue" | "stop";

/** Body bytes shown to a filter; the filter may replace `data` (the stream forwards what is left). */
export interface BodyBuffer {
  data: Buffer;
}

export interface HttpFilter {
  decodeHeaders(headers: HeaderList, endStream: boolean): FilterStatus;
  /** Shown new body bytes; "stop" keeps them buffered in the filter, "continue" forwards `body.data`. */
  decodeData(body: BodyBuffer, endStream: boolean): FilterStatus;
  /** Bytes released when the filter resumes after stopping on body. */
  drainDecoded(): Buffer;
  /** Request trailers (they end the request); "stop" holds them until the filter resumes. */
  decodeTrailers?(trailers: HeaderList): FilterStatus;
  encodeHeaders(headers: HeaderList, endStream: boolean): FilterStatus;
  encodeData(body: BodyBuffer, endStream: boolean): FilterStatus;
  drainEncoded(): Buffer;
  encodeTrailers?(trailers: HeaderList): FilterStatus;
  /** Access-log phase (Wasm `on_log`). */
  onLog(): void;
  /** The stream is gone (Wasm `on_done` + `on_delete`). */
  onDestroy(): void;
}

export interface HttpFilterCallbacks {
  readonly streamInfo: StreamInfo;
  /** Resumes the request direction after `stop`. */
  continueDecoding(): void;
  /** Resumes the response direction after `stop`. */
  continueEncoding(): void;
  /** Answers the request locally (status, body, extra headers, response code details, gRPC status). */
  sendLocalReply(
    status: number,
    body: Uint8Array | string,
    headers: HeaderList,
    details: string,
    grpcStatus?: number | null,
  ): void;
  /** Forgets the cached route; the router picks again with the current headers. */
  clearRouteCache(): void;
  /** The route for the current headers (computed on demand and cached). */
  route(): SelectedRoute | undefined;
  /** Request and response headers as they currently are (for properties). */
  requestHeaders(): HeaderList;
  responseHeaders(): HeaderList | undefined;
  /** Ends the stream abruptly (a filter closed it). */
  resetStream(): void;
  /**
   * The filter named `filterName` edited the `direction` headers (now `headers`), or gave them to a local
   * reply: the stream notes an invalid header for Envoy's check before the message goes out.
   */
  headersEdited?(direction: "request" | "response", filterName: string, headers: HeaderList): void;
}

/** Builds one filter instance for one stream. */
export type HttpFilterFactory = (callbacks: HttpFilterCallbacks) => HttpFilter;
