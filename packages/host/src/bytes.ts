/**
 * Text and bytes: UTF-8 and latin1 (one char per byte) encodings of strings, their decoding, and ASCII
 * lower-casing (Envoy's `LowerCaseString`). Guest text is untrusted: UTF-8 decoding never throws
 * (malformed sequences become U+FFFD).
 */
import type { BytesInput } from "./types.ts";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** An empty byte array to share (never written). */
export const EMPTY_BYTES = new Uint8Array(0);

/**
 * UTF-8 encodes a string. Short ASCII strings (nearly every header) are encoded by a plain loop, which is
 * several times faster than `TextEncoder` for them.
 */
export function encodeString(s: string): Uint8Array {
  const n = s.length;
  // An empty array holds nothing to write to, so one can be shared (an empty status message per callout).
  if (n === 0) return EMPTY_BYTES;
  if (n > 64) return utf8.encode(s);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return utf8.encode(s);
    out[i] = c;
  }
  return out;
}

/** Decodes UTF-8 bytes (malformed sequences become U+FFFD), with one shared decoder. */
export function utf8String(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/**
 * Encodes a string whose characters are bytes (latin1: every char code is 0-255), as Node's HTTP parser
 * hands header text over, so the result is exactly the bytes on the wire.
 */
export function encodeLatin1(s: string): Uint8Array {
  const n = s.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Node's latin1 decoder, which takes any Uint8Array (Buffer's own method: undocumented, but as old as
 * Buffer, and undici relies on it too). It reads the elements in place: `Buffer.from(bytes.buffer, ...)`
 * would first move a small on-heap array off the V8 heap (a malloc). Under 40 ns for a header name,
 * against 70-140 ns for `String.fromCharCode.apply`.
 */
const nodeLatin1Slice = (
  Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }
).latin1Slice;

/** The latin1 text of bytes (one char per byte), the inverse of `encodeLatin1`. */
export function latin1String(bytes: Uint8Array): string {
  return nodeLatin1Slice.call(bytes, 0, bytes.length);
}

/** The latin1 text of `mem[ptr, ptr+len)`, read in place. */
export function latin1Text(mem: Uint8Array, ptr: number, len: number): string {
  return nodeLatin1Slice.call(mem, ptr, ptr + len);
}

/** ASCII A-Z lower-cased, other chars untouched (Envoy's LowerCaseString), for latin1 text. */
export function lowerAsciiText(text: string): string {
  // Data-plane names are nearly always lower-case already: a char scan finds that faster than a regex.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a)
      return text.replace(/[A-Z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) | 0x20));
  }
  return text;
}

/** UTF-8 encodes a string; passes bytes through unchanged. */
export function toBytes(input: BytesInput): Uint8Array {
  return typeof input === "string" ? encodeString(input) : input;
}

/**
 * Bytes the caller may keep: strings are encoded fresh, byte arrays copied (the embedder may reuse them).
 * A plain Uint8Array copy: a Node Buffer's `slice` returns a view of the same memory, not a copy, and
 * slicing through the species constructor makes a Buffer, which costs about three times as much.
 */
export function ownedBytes(input: BytesInput): Uint8Array {
  return typeof input === "string" ? encodeString(input) : new Uint8Array(input);
}

/** Returns a copy with ASCII A-Z lower-cased (other bytes untouched, like Envoy's LowerCaseString). */
export function lowerAscii(bytes: Uint8Array): Uint8Array {
  // Names are nearly always lower-case already: then a plain copy, which the typed-array constructor makes
  // faster than a loop writing each byte.
  let i = 0;
  while (i < bytes.length && !(bytes[i]! >= 0x41 && bytes[i]! <= 0x5a)) i++;
  const out = new Uint8Array(bytes);
  for (; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x41 && b <= 0x5a) out[i] = b | 0x20;
  }
  return out;
}
