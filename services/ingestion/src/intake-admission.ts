import type { Readable } from "node:stream";
import { IntakeError } from "./intake-body.ts";

/** The intake is busy right now (429 with Retry-After); the same request may succeed a moment later. */
export class IntakeBusyError extends Error {
  override name = "IntakeBusyError";
}

/** Limits of {@link IntakeAdmission}. */
export interface IntakeAdmissionLimits {
  /** Largest body of one request (413 beyond). */
  bodyLimitBytes: number;
  /** Most bytes of bodies still being received, over all requests (429 beyond). */
  maxReceivingBytes: number;
  /** Most requests whose body is in and that are being parsed and written (429 beyond). */
  maxInProgress: number;
}

/**
 * Decides which intake requests get memory and work, so that a few slow clients cannot shut the intake.
 *
 * A body still arriving is counted by the bytes that have actually arrived, against a budget shared by all
 * requests; a request takes one of the parse-and-write slots only once its whole body is in. A client that sends
 * its headers and then trickles its body one byte a second therefore holds a few bytes of the budget and no slot.
 * Counting slots from the headers (as this service once did) let 64 such sockets refuse every real client; counting
 * a body by its declared Content-Length would let them fill the byte budget as easily. How long a slow client may
 * hold its bytes is bounded apart from this, by the server's header and request timeouts.
 *
 * Memory for bodies stays bounded: `maxReceivingBytes` while arriving, `maxInProgress` × `bodyLimitBytes` once in.
 */
export class IntakeAdmission {
  /** Bytes of bodies received so far by requests whose body is not yet complete. */
  receivingBytes = 0;
  /** Requests with a complete body being parsed and written. */
  inProgress = 0;

  constructor(readonly limits: IntakeAdmissionLimits) {}

  /** Reads a whole request body, counting its bytes as they arrive; rejects with 413 or {@link IntakeBusyError}. */
  readBody(payload: Readable, contentLength: string | undefined): Promise<Buffer> {
    const { bodyLimitBytes, maxReceivingBytes } = this.limits;
    if (Number(contentLength) > bodyLimitBytes) return Promise.reject(bodyTooLarge(bodyLimitBytes));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const settle = (error: Error | undefined) => {
        payload.off("data", onData);
        payload.off("end", onEnd);
        payload.off("error", onError);
        payload.off("close", onClose);
        this.receivingBytes -= received;
        if (error) reject(error);
        else resolve(Buffer.concat(chunks, received));
      };
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        this.receivingBytes += chunk.length;
        if (received > bodyLimitBytes) return settle(bodyTooLarge(bodyLimitBytes));
        if (this.receivingBytes > maxReceivingBytes) {
          return settle(
            new IntakeBusyError(
              `more than ${maxReceivingBytes} bytes of intake bodies are being received at once; retry later`,
            ),
          );
        }
        chunks.push(chunk);
      };
      const onEnd = () => settle(undefined);
      const onError = (error: Error) =>
        settle(new IntakeError(400, `the request body was cut off: ${error.message}`));
      // `close` before `end`: the client went away or a timeout closed the connection.
      const onClose = () => settle(new IntakeError(400, "the request body was cut off"));
      payload.on("data", onData);
      payload.on("end", onEnd);
      payload.on("error", onError);
      payload.on("close", onClose);
    });
  }

  /** Takes a parse-and-write slot for a request whose body is in; returns its release, or throws {@link IntakeBusyError}. */
  admit(): () => void {
    if (this.inProgress >= this.limits.maxInProgress) {
      throw new IntakeBusyError(
        `more than ${this.limits.maxInProgress} intake requests are being processed at once; retry later`,
      );
    }
    this.inProgress++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inProgress--;
    };
  }
}

function bodyTooLarge(limit: number): IntakeError {
  return new IntakeError(413, `body over the limit of ${limit} bytes; split the batch`);
}
