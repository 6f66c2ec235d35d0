// What an HTTP or gRPC callout hands back: a token (or a failed status), and the response view.

import { proxy_get_status } from "./abi/imports";
import { BufferType, MapType, Status } from "./abi/types";
import { Buffer } from "./buffers";
import { toText } from "./bytes";
import { HeaderMap } from "./headers";
import { RETURN_DATA, RETURN_EXTRA, RETURN_SIZE, clearReturnSlots, setLastStatus, takeReturnedBytes } from "./memory";

/** Outcome of starting a callout: `ok` with the host's `token`, or the failed `status`. */
export class Callout {
  constructor(
    readonly status: Status,
    readonly token: u32,
  ) {}

  /** True when the host accepted the call; the response will arrive with this `token`. */
  get ok(): bool {
    return this.status == Status.Ok;
  }
}

/** Headers of the HTTP callout response being delivered (valid inside `onHttpCallResponse`). */
@lazy export const httpCallResponseHeaders = new HeaderMap(MapType.HttpCallResponseHeaders);
/** Trailers of the HTTP callout response being delivered. */
@lazy export const httpCallResponseTrailers = new HeaderMap(MapType.HttpCallResponseTrailers);
/** Initial metadata of the gRPC call being delivered (valid inside `onGrpcReceiveInitialMetadata`). */
@lazy export const grpcInitialMetadata = new HeaderMap(MapType.GrpcReceiveInitialMetadata);
/** Trailing metadata of the gRPC call being delivered (valid inside `onGrpcReceiveTrailingMetadata`). */
@lazy export const grpcTrailingMetadata = new HeaderMap(MapType.GrpcReceiveTrailingMetadata);
@lazy const httpCallResponseBody = new Buffer(BufferType.HttpCallResponseBody);

/**
 * The response to an HTTP callout, as `onHttpCallResponse` receives it. Headers, body and trailers
 * are read from the host on demand, so they are only valid during that callback.
 */
export class HttpCallResponse {
  constructor(
    readonly token: u32,
    readonly headerCount: u32,
    readonly bodySize: u32,
    readonly trailerCount: u32,
  ) {}

  /**
   * True when no response arrived: Envoy reports a timeout, a reset or an unknown cluster as a
   * response without headers.
   */
  get failed(): bool {
    return this.headerCount == 0;
  }

  /** The `:status` as a number, or -1 when failed or unparsable. */
  get statusCode(): i32 {
    if (this.failed) return -1;
    const status = httpCallResponseHeaders.get(":status");
    if (status === null || status.length == 0) return -1;
    for (let i = 0; i < status.length; i++) {
      const c = status.charCodeAt(i);
      if (c < 48 || c > 57) return -1;
    }
    return I32.parseInt(status);
  }

  /** A response header, or null. */
  header(name: string): string | null {
    return httpCallResponseHeaders.get(name);
  }

  /** The response body as bytes (empty when there is none). */
  body(): ArrayBuffer {
    if (this.bodySize == 0) return new ArrayBuffer(0);
    const bytes = httpCallResponseBody.read(0, this.bodySize);
    return bytes === null ? new ArrayBuffer(0) : bytes;
  }

  /** The response body as UTF-8 text. */
  bodyText(): string {
    return toText(this.body());
  }
}

/** The status message of the gRPC call being closed (inside `onGrpcClose`), or null when there is none. */
export function grpcStatusMessage(): string | null {
  clearReturnSlots();
  const s = setLastStatus(proxy_get_status(RETURN_EXTRA, RETURN_DATA, RETURN_SIZE));
  const bytes = takeReturnedBytes();
  return s == Status.Ok && bytes !== null ? toText(bytes) : null;
}
