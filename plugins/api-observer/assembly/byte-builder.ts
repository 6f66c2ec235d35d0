// A growable byte string: redacted bodies are assembled as bytes, in linear time.

/** A growable byte string. */
export class ByteBuilder {
  data: Uint8Array;
  length: i32 = 0;

  constructor(capacity: i32) {
    this.data = new Uint8Array(max(capacity, 16));
  }

  private reserve(extra: i32): void {
    if (this.length + extra <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }

  /** Appends `source[start, end)` (clamped to the source). No view objects: this runs per escape. */
  appendRange(source: Uint8Array, start: i32, end: i32): void {
    const from = max(start, 0);
    const to = min(end, source.length);
    if (to <= from) return;
    const size = to - from;
    this.reserve(size);
    memory.copy(this.data.dataStart + <usize>this.length, source.dataStart + <usize>from, <usize>size);
    this.length += size;
  }

  /** Appends `text` as UTF-8, encoded straight into the builder (no intermediate buffer). */
  appendText(text: string): void {
    const size = String.UTF8.byteLength(text);
    this.reserve(size);
    String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, this.data.dataStart + <usize>this.length);
    this.length += size;
  }

  /** What was built: a view of the builder's buffer, not a copy (append nothing after taking it). */
  toBytes(): Uint8Array {
    return this.data.subarray(0, this.length);
  }
}
