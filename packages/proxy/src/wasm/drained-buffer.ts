/** Bytes a plugin released (drained from the host) as the Buffer the data plane forwards. */

const EMPTY = Buffer.alloc(0);

/**
 * Drained body bytes (the host gives up the array) as a Buffer for the data plane. Past V8's 64-byte
 * on-heap limit the array's memory is already off-heap and the Buffer is a view of it; a small array is
 * copied instead, because asking it for its ArrayBuffer would move it off-heap with a malloc.
 */
export function drainedBuffer(bytes: Uint8Array): Buffer {
  const n = bytes.length;
  if (n === 0) return EMPTY;
  if (n > 64) return Buffer.from(bytes.buffer, bytes.byteOffset, n);
  const out = Buffer.allocUnsafe(n);
  out.set(bytes);
  return out;
}
