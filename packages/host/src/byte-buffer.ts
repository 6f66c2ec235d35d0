/** A body or data buffer a plugin reads and edits through `proxy_get_buffer_bytes` / `proxy_set_buffer_bytes`. */
import { Status } from "./types.ts";

const EMPTY = new Uint8Array(0);

export class ByteBuffer {
  bytes: Uint8Array;
  /** Read-only buffers (configuration, callout responses, foreign-function arguments) refuse edits. */
  readonly writable: boolean;

  constructor(bytes: Uint8Array = EMPTY, writable = true) {
    this.bytes = bytes;
    this.writable = writable;
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Appends a copy of `chunk`. */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.bytes.length === 0) {
      this.bytes = chunk.slice();
      return;
    }
    this.appendOwned(chunk);
  }

  /** Appends `chunk`, which the caller hands over (kept as is when the buffer is empty: no copy). */
  appendOwned(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.bytes.length === 0) {
      this.bytes = chunk;
      return;
    }
    const out = new Uint8Array(this.bytes.length + chunk.length);
    out.set(this.bytes, 0);
    out.set(chunk, this.bytes.length);
    this.bytes = out;
  }

  /** Removes and returns the whole content. */
  take(): Uint8Array {
    const out = this.bytes;
    this.bytes = EMPTY;
    return out;
  }

  /**
   * Replaces `size` bytes at `start` with `data` (the spec's prepend / append / inject / replace, with
   * `start` and `size` unsigned and clamped to the buffer). `data` is copied.
   */
  splice(start: number, size: number, data: Uint8Array): Status {
    if (!this.writable) return Status.BadArgument;
    const len = this.bytes.length;
    const from = Math.min(start >>> 0, len);
    const to = from + Math.min(size >>> 0, len - from);
    if (from === 0 && to === len) {
      // Replacing the whole buffer (a plugin rewriting a body it read) is a copy of `data`.
      this.bytes = data.slice();
      return Status.Ok;
    }
    const out = new Uint8Array(len - (to - from) + data.length);
    // Views of the kept parts only when there are any: making a view costs more than a short copy.
    if (from > 0) out.set(to === len && from === len ? this.bytes : this.bytes.subarray(0, from), 0);
    out.set(data, from);
    if (to < len) out.set(this.bytes.subarray(to), from + data.length);
    this.bytes = out;
    return Status.Ok;
  }
}
