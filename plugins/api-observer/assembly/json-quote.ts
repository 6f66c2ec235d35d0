// JSON string quoting in linear time, on bytes. The SDK's `jsonQuote` appends to one growing string at
// every escape: a 16 KB JSON body (thousands of quotes to escape) took ~1 s of worker CPU and hundreds
// of MB of linear memory. Captured bodies and header values are attacker-sized, so events use this.

const HEX = "0123456789abcdef";

/** `text` as a quoted, escaped JSON string. */
export function quoteJson(text: string): string {
  const input = Uint8Array.wrap(String.UTF8.encode(text));
  // Worst case: every byte becomes \u00XX (6 bytes), plus the quotes.
  let escapes = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c < 0x20) escapes += 5;
    else if (c == 0x22 || c == 0x5c) escapes += 1;
  }
  const out = new Uint8Array(input.length + escapes + 2);
  let o = 0;
  out[o++] = 0x22;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c == 0x22 || c == 0x5c) {
      out[o++] = 0x5c;
      out[o++] = c;
    } else if (c < 0x20) {
      out[o++] = 0x5c;
      out[o++] = 0x75; // u
      out[o++] = 0x30;
      out[o++] = 0x30;
      out[o++] = <u8>HEX.charCodeAt(c >> 4);
      out[o++] = <u8>HEX.charCodeAt(c & 15);
    } else {
      out[o++] = c;
    }
  }
  out[o++] = 0x22;
  return String.UTF8.decode(out.buffer);
}
