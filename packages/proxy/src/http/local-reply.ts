/**
 * Envoy's own answers (local replies): the status, body text, response code details and flag it uses
 * for each situation (router.cc, filter_manager.cc, http1 codec_impl.cc).
 */
import type { ResetReason } from "../cluster/upstream-request.ts";
import type { ResponseFlag } from "../stream-info.ts";

export interface LocalReplySpec {
  status: number;
  body: string;
  details: string;
  flag?: ResponseFlag;
  /** The gRPC status a plugin gave its local reply (gRPC requests only; else mapped from `status`). */
  grpcStatus?: number;
}

export const LOCAL_REPLIES = {
  noRoute: { status: 404, body: "", details: "route_not_found", flag: "NR" },
  clusterNotFound: { status: 503, body: "", details: "cluster_not_found", flag: "NC" },
  noHealthyUpstream: { status: 503, body: "no healthy upstream", details: "no_healthy_upstream", flag: "UH" },
  upstreamTimeout: {
    status: 504,
    body: "upstream request timeout",
    details: "upstream_response_timeout",
    flag: "UT",
  },
  requestTooLarge: { status: 413, body: "Payload Too Large", details: "request_payload_too_large" },
  responseTooLarge: { status: 500, body: "Internal Server Error", details: "response_payload_too_large" },
  badRequest: { status: 400, body: "Bad Request", details: "http1.codec_error", flag: "DPE" },
  headersTooLarge: {
    status: 431,
    body: "Request Header Fields Too Large",
    details: "http1.headers_too_large",
    flag: "DPE",
  },
  // conn_manager_impl.cc onIdleTimeout / onRequestTimeout / onRequestHeaderTimeout: 408 while the request is
  // still arriving, 504 once it is all there (Utility::maybeRequestTimeoutCode); only the idle one sets a flag.
  streamIdleTimeout: { status: 408, body: "stream timeout", details: "stream_idle_timeout", flag: "SI" },
  requestTimeout: { status: 408, body: "request timeout", details: "request_overall_timeout" },
  requestHeaderTimeout: { status: 408, body: "request header timeout", details: "request_header_timeout" },
} satisfies Record<string, LocalReplySpec>;

const FLAG_BY_RESET: Record<ResetReason, ResponseFlag> = {
  "connection failure": "UF",
  "connection timeout": "UF",
  "connection termination": "UC",
  "protocol error": "UPE",
  "local reset": "LR",
};

const NAME_BY_RESET: Record<ResetReason, string> = {
  "connection failure": "remote connection failure",
  "connection timeout": "connection timeout",
  "connection termination": "connection termination",
  "protocol error": "protocol error",
  "local reset": "local reset",
};

/** The router's answer when the upstream fails before sending response headers (after `retried` retries). */
export function upstreamResetReply(
  reason: ResetReason,
  transportFailureReason: string,
  retried = false,
): LocalReplySpec {
  const name = NAME_BY_RESET[reason];
  const transport = transportFailureReason ? `, transport failure reason: ${transportFailureReason}` : "";
  const lead = retried ? "retried and the latest reset reason" : "reset reason";
  return {
    status: reason === "protocol error" ? 502 : 503,
    body: `upstream connect error or disconnect/reset before headers. ${lead}: ${name}${transport}`,
    details: `upstream_reset_before_response_started{${name.replace(/ /g, "_")}${transportFailureReason ? `|${transportFailureReason.replace(/ /g, "_")}` : ""}}`,
    flag: FLAG_BY_RESET[reason],
  };
}

/** grpc/status.cc Utility::httpToGrpcStatus (gRPC's http-grpc-status-mapping.md). */
export function httpToGrpcStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13; // Internal
    case 401:
      return 16; // Unauthenticated
    case 403:
      return 7; // PermissionDenied
    case 404:
      return 12; // Unimplemented
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // Unavailable
    default:
      return 2; // Unknown
  }
}

/**
 * http/utility.cc PercentEncoding::encode as used for grpc-message: bytes below ' ', from '~' up (so every
 * non-ASCII byte, `char` being signed), and '%' become %XX.
 */
export function grpcPercentEncode(body: Uint8Array): string {
  let out = "";
  for (const b of body) {
    if (b < 0x20 || b >= 0x7e || b === 0x25) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    else out += String.fromCharCode(b);
  }
  return out;
}
