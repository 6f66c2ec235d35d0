/** Shared UTF-8 decoding of guest bytes (one decoder: no allocation per call beyond the string). */
const decoder = new TextDecoder();

/** Decodes guest bytes as UTF-8 (invalid sequences become U+FFFD; guest text is untrusted). */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
