// Bytes <-> strings. Everything on the wire is bytes; strings are UTF-8 on top.

/** UTF-8 encodes a string. */
export function toBytes(text: string): ArrayBuffer {
  return String.UTF8.encode(text);
}

/** Decodes UTF-8 bytes leniently: malformed input from the wire never traps (it decodes to odd characters). */
export function toText(bytes: ArrayBuffer): string {
  return String.UTF8.decode(bytes);
}

/** Decodes `size` UTF-8 bytes at `ptr`. @internal */
export function textAt(ptr: usize, size: usize): string {
  return String.UTF8.decodeUnsafe(ptr, size);
}

/** Compares two byte buffers. */
export function bytesEqual(a: ArrayBuffer, b: ArrayBuffer): bool {
  if (a.byteLength != b.byteLength) return false;
  return memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>a.byteLength) == 0;
}

/** Concatenates two byte buffers. */
export function concatBytes(a: ArrayBuffer, b: ArrayBuffer): ArrayBuffer {
  const out = new ArrayBuffer(a.byteLength + b.byteLength);
  memory.copy(changetype<usize>(out), changetype<usize>(a), <usize>a.byteLength);
  memory.copy(changetype<usize>(out) + <usize>a.byteLength, changetype<usize>(b), <usize>b.byteLength);
  return out;
}
