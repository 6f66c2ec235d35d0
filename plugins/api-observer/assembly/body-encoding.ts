// How a captured body travels in the event: as text when it is valid UTF-8 (the ingestion service
// reads bodies as strict UTF-8), else as base64 in `body_base64`. The seed decoded lossily and lost
// binary (gRPC, images) bodies.

/** True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
export function isValidUtf8(bytes: Uint8Array): bool {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b0 = <u32>bytes[i];
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need = 0;
    let min: u32 = 0;
    let cp: u32 = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + need >= n) return false; // truncated sequence
    for (let k = 1; k <= need; k++) {
      const b = <u32>bytes[i + k];
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard padded base64 (RFC 4648), as the ingestion service's `body_base64` expects. */
export function encodeBase64(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(((n + 2) / 3) * 4);
  const alphabet = String.UTF8.encode(ALPHABET);
  const table = Uint8Array.wrap(alphabet);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (<u32>bytes[i] << 16) | (<u32>bytes[i + 1] << 8) | <u32>bytes[i + 2];
    out[o++] = table[(v >> 18) & 63];
    out[o++] = table[(v >> 12) & 63];
    out[o++] = table[(v >> 6) & 63];
    out[o++] = table[v & 63];
  }
  const rest = n - i;
  if (rest == 1) {
    const v = <u32>bytes[i] << 16;
    out[o++] = table[(v >> 18) & 63];
    out[o++] = table[(v >> 12) & 63];
    out[o++] = 61;
    out[o++] = 61;
  } else if (rest == 2) {
    const v = (<u32>bytes[i] << 16) | (<u32>bytes[i + 1] << 8);
    out[o++] = table[(v >> 18) & 63];
    out[o++] = table[(v >> 12) & 63];
    out[o++] = table[(v >> 6) & 63];
    out[o++] = 61;
  }
  return String.UTF8.decode(out.buffer);
}
