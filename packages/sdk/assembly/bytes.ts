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

/**
 * The UTF-8 sequence at `p` (`left` bytes readable, at least 1) whose first byte is 0x80 or more:
 * its length when well-formed, else minus the length of its maximal ill-formed subpart. Well-formed
 * means Unicode's table 3-7: no overlong forms, no surrogates (ED A0..BF), nothing past U+10FFFF.
 * The maximal subpart is what Unicode (3.9, "U+FFFD substitution of maximal subparts"), the WHATWG
 * Encoding standard, TextDecoder and Node's Buffer replace with one U+FFFD each. @internal
 */
export function utf8Sequence(p: usize, left: i32): i32 {
  const b0 = <u32>load<u8>(p);
  let need = 0;
  let low: u32 = 0x80;
  let high: u32 = 0xbf;
  if (b0 < 0xc2) return -1; // a continuation byte, or C0/C1 (only ever overlong)
  if (b0 < 0xe0) need = 1;
  else if (b0 < 0xf0) {
    need = 2;
    if (b0 == 0xe0) low = 0xa0; // overlong below U+0800
    else if (b0 == 0xed) high = 0x9f; // surrogates
  } else if (b0 < 0xf5) {
    need = 3;
    if (b0 == 0xf0) low = 0x90; // overlong below U+10000
    else if (b0 == 0xf4) high = 0x8f; // past U+10FFFF
  } else return -1;
  for (let k = 1; k <= need; k++) {
    if (k >= left) return -k; // cut short by the end
    const b = <u32>load<u8>(p + <usize>k);
    if (b < low || b > high) return -k;
    low = 0x80;
    high = 0xbf;
  }
  return need + 1;
}

/**
 * True when `bytes` (an `ArrayBuffer` or a `Uint8Array`) is well-formed UTF-8: no stray or
 * overlong bytes, no encoded surrogates, nothing past U+10FFFF, no sequence cut short. What a
 * strict reader (`new TextDecoder("utf-8", { fatal: true })`) accepts. False for null.
 */
export function isValidUtf8<T>(bytes: T): bool {
  if (isNullable<T>()) {
    if (bytes === null) return false;
    return isValidUtf8<NonNullable<T>>(changetype<NonNullable<T>>(bytes));
  }
  if (bytes instanceof Uint8Array) return validUtf8At(bytes.dataStart, bytes.length);
  else if (bytes instanceof ArrayBuffer) return validUtf8At(changetype<usize>(bytes), bytes.byteLength);
  else ERROR("isValidUtf8 takes an ArrayBuffer or a Uint8Array");
  return false;
}

function validUtf8At(src: usize, n: i32): bool {
  let i = 0;
  while (i < n) {
    if (load<u8>(src + <usize>i) < 0x80) {
      i++;
      continue;
    }
    const length = utf8Sequence(src + <usize>i, n - i);
    if (length < 0) return false;
    i += length;
  }
  return true;
}
