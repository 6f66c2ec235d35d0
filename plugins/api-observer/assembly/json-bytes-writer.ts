// Writes the event JSON straight into bytes. The SDK's JsonWriter cannot be used for captured
// traffic: built with the SDK's shrinkLevel 2, AssemblyScript's Array<string>.join falls back to
// `result +=` per part (std/assembly/array.ts: the string fast path is only for ASC_SHRINK_LEVEL < 1),
// and jsonQuote appends per escape, so both are quadratic: a 16 KB body full of quotes cost ~1 s and
// hundreds of MB of linear memory. Here every byte is copied a bounded number of times.

import { ByteBuilder } from "./byte-builder";

const HEX = "0123456789abcdef";

export class JsonBytesWriter {
  private out: ByteBuilder = new ByteBuilder(4096);
  // One entry per open container: true until its first element is written.
  private first: Array<bool> = new Array<bool>();
  private afterKey: bool = false;

  private separate(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const depth = this.first.length;
    if (depth == 0) return;
    if (this.first[depth - 1]) this.first[depth - 1] = false;
    else this.out.appendByte(0x2c);
  }

  beginObject(): JsonBytesWriter {
    this.separate();
    this.out.appendByte(0x7b);
    this.first.push(true);
    return this;
  }

  endObject(): JsonBytesWriter {
    this.first.pop();
    this.out.appendByte(0x7d);
    return this;
  }

  key(name: string): JsonBytesWriter {
    this.separate();
    this.quoted(Uint8Array.wrap(String.UTF8.encode(name)));
    this.out.appendByte(0x3a);
    this.afterKey = true;
    return this;
  }

  string(text: string): JsonBytesWriter {
    return this.utf8String(Uint8Array.wrap(String.UTF8.encode(text)));
  }

  /** A string value given as UTF-8 bytes (already known to be valid UTF-8). */
  utf8String(bytes: Uint8Array): JsonBytesWriter {
    this.separate();
    this.quoted(bytes);
    return this;
  }

  integer(value: i64): JsonBytesWriter {
    this.separate();
    this.out.appendText(value.toString());
    return this;
  }

  /** A finite number (callers pass finite values only). */
  number(value: f64): JsonBytesWriter {
    this.separate();
    this.out.appendText(value == Math.floor(value) ? (<i64>value).toString() : value.toString());
    return this;
  }

  private quoted(bytes: Uint8Array): void {
    const out = this.out;
    out.appendByte(0x22);
    let runStart = 0;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
      out.appendRange(bytes, runStart, i);
      out.appendByte(0x5c);
      if (c == 0x22 || c == 0x5c) out.appendByte(c);
      else if (c == 0x0a) out.appendByte(0x6e); // \n
      else if (c == 0x0d) out.appendByte(0x72); // \r
      else if (c == 0x09) out.appendByte(0x74); // \t
      else {
        out.appendByte(0x75); // \u00XX
        out.appendByte(0x30);
        out.appendByte(0x30);
        out.appendByte(<u8>HEX.charCodeAt(c >> 4));
        out.appendByte(<u8>HEX.charCodeAt(c & 15));
      }
      runStart = i + 1;
    }
    out.appendRange(bytes, runStart, bytes.length);
    out.appendByte(0x22);
  }

  toBytes(): ArrayBuffer {
    return this.out.toBytes().buffer;
  }
}
