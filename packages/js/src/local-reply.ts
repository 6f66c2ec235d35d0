/** A response the plugin sends itself instead of forwarding the request (proxy_send_local_response). */

import { expectOk, hostcall } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { type HeadersInit, serializePairs, toHeaderList } from "./header-pairs.ts";
import { encodeUtf8 } from "./text-encoding.ts";

export interface LocalReplyInit {
  headers?: HeadersInit;
  /** Envoy's response-code details (a token, shown in access logs). */
  details?: string;
  /** For gRPC requests: the grpc-status to answer with. */
  grpcStatus?: number;
}

export class LocalReply {
  constructor(
    readonly status: number,
    readonly body: string | Uint8Array = "",
    readonly init: LocalReplyInit = {},
  ) {}

  /** Sends it for the effective stream. */
  send(): void {
    const body = typeof this.body === "string" ? encodeUtf8(this.body) : this.body;
    expectOk(
      "send local response",
      hostcall(
        HostOp.SendLocalResponse,
        this.status,
        this.init.details ?? "",
        body.slice().buffer,
        serializePairs(toHeaderList(this.init.headers)),
        this.init.grpcStatus ?? -1,
      ),
    );
  }
}

/** A local reply: `return respond(403, "forbidden")` from a stream handler answers the client directly. */
export function respond(
  status: number,
  body: string | Uint8Array = "",
  init: LocalReplyInit = {},
): LocalReply {
  return new LocalReply(status, body, init);
}
