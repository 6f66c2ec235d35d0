// How a captured body travels in the event: as text when it is valid UTF-8 (the ingestion service
// reads bodies as strict UTF-8; the SDK's isValidUtf8 tells), else as base64 in `body_base64`. The
// seed decoded lossily and lost binary (gRPC, images) bodies.

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
