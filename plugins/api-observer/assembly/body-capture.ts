// One direction's body, collected across every chunk the filter sees (the seed kept only the last
// chunk), up to a cap. Memory grows with what was captured, never past the cap.

import { Buffer } from "@proxy-wasm-ts/sdk/assembly";

/** Where every capture starts: shared, never written (the first chunk allocates the capture's own). */
const NOTHING = new Uint8Array(0);

export class BodyCapture {
  private data: Uint8Array = NOTHING;
  private used: i32 = 0;
  /** Bytes seen in total, captured or not. */
  seen: i64 = 0;

  constructor(readonly cap: i32) {}

  /** True when bytes were left out because of the cap. */
  get truncated(): bool {
    return this.seen > <i64>this.used;
  }

  /** Adds the current chunk of `source` (`chunkSize` bytes, as the body callback reports). */
  addChunk(source: Buffer, chunkSize: u32): void {
    this.seen += chunkSize;
    const room = this.cap - this.used;
    if (room <= 0 || chunkSize == 0) return;
    const want = min(<i32>chunkSize, room);
    const bytes = source.read(0, <u32>want);
    if (bytes === null) return;
    const chunk = Uint8Array.wrap(bytes);
    if (this.used == 0 && chunk.length <= room) {
      // The first chunk (often the only one) is kept as the host handed it over, not copied into a
      // fresh buffer; a later chunk grows a copy.
      this.data = chunk;
      this.used = chunk.length;
      return;
    }
    this.append(chunk);
  }

  private append(chunk: Uint8Array): void {
    const size = min(chunk.length, this.cap - this.used);
    if (this.used + size > this.data.length) {
      let capacity = max(this.data.length * 2, 256);
      while (capacity < this.used + size) capacity *= 2;
      const grown = new Uint8Array(min(capacity, this.cap));
      grown.set(this.data.subarray(0, this.used));
      this.data = grown;
    }
    this.data.set(chunk.subarray(0, size), this.used);
    this.used += size;
  }

  /**
   * The captured bytes. When the cap cut a UTF-8 character in half, the partial character is left
   * out, so a cut text body is still text.
   */
  bytes(): Uint8Array {
    let end = this.used;
    if (this.truncated) end = completeUtf8Prefix(this.data, end);
    // A view, not a copy: the event that takes it lives no longer than this capture, and nothing writes to
    // the capture once the stream is logged.
    return this.data.subarray(0, end);
  }
}

/** Length of `bytes[0, end)` without a trailing incomplete UTF-8 sequence. */
function completeUtf8Prefix(bytes: Uint8Array, end: i32): i32 {
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = <u32>bytes[end - back];
    if ((b & 0xc0) == 0x80) continue; // continuation byte: keep looking for the lead byte
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > back ? end - back : end;
  }
  return end;
}
