/** Bodies and connection data: a chunk the host buffers, read and rewritten through proxy_*_buffer_bytes. */

import { BufferType, expectOk, hostcall, Status, statusOf } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { decodeUtf8, encodeUtf8 } from "./text-encoding.ts";

/** Reads `length` bytes from `start` of a host buffer (empty when the buffer is absent). */
export function readBuffer(type: BufferType, start = 0, length = 0xffffffff): Uint8Array {
  const result = hostcall(HostOp.GetBufferBytes, type, start, length);
  return statusOf(result) === Status.Ok ? new Uint8Array(result as ArrayBuffer) : new Uint8Array(0);
}

/** The data of one callback: the bytes buffered so far, and whether the stream ends with them. */
export class BodyChunk {
  constructor(
    /** Which host buffer this is. */
    readonly bufferType: BufferType,
    /** Bytes buffered so far. */
    readonly size: number,
    /** True when this is the end of the stream (or of this direction of the connection). */
    readonly endOfStream: boolean,
    private readonly beforeCall: () => void = () => {},
  ) {}

  /** The buffered bytes. */
  bytes(): Uint8Array {
    this.beforeCall();
    return readBuffer(this.bufferType, 0, this.size);
  }

  /** The buffered bytes as UTF-8 text. */
  text(): string {
    return decodeUtf8(this.bytes());
  }

  /** The buffered bytes parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  /** Replaces the buffered bytes with `data`. */
  replace(data: string | Uint8Array): void {
    this.beforeCall();
    const bytes = typeof data === "string" ? encodeUtf8(data) : data;
    const copy =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer
        : bytes.slice().buffer;
    expectOk("set body", hostcall(HostOp.SetBufferBytes, this.bufferType, 0, this.size, copy));
  }
}

export { BufferType };
