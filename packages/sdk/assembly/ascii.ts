// ASCII case folding. Host names, header names and methods are ASCII case-insensitive, and
// `String#toLowerCase` would pull AssemblyScript's Unicode case tables (~8 KB) into every module
// that calls it, doubling a small plugin. These fold A-Z only and leave every other character as is.

/** Whether the code unit is an ASCII capital letter. */
// @ts-ignore: decorator
@inline
function isAsciiUpper(c: u32): bool {
  return c - 0x41 < 26;
}

/**
 * `text` with ASCII letters A-Z lower-cased and everything else unchanged (`"Example.COM"` is
 * `"example.com"`; `"É"` stays `"É"`). For host and header names, use this instead of
 * `String#toLowerCase`, which adds ~8 KB of Unicode tables to the module. Returns `text` itself
 * when it has no capital letter.
 */
export function asciiLowerCase(text: string): string {
  const src = changetype<usize>(text);
  const n = <usize>text.length;
  let i: usize = 0;
  while (i < n && !isAsciiUpper(load<u16>(src + (i << 1)))) i++;
  if (i == n) return text;
  const out = changetype<string>(__new(n << 1, idof<string>()));
  const dst = changetype<usize>(out);
  memory.copy(dst, src, i << 1);
  for (; i < n; i++) {
    const c = <u32>load<u16>(src + (i << 1));
    store<u16>(dst + (i << 1), <u16>(isAsciiUpper(c) ? c | 0x20 : c));
  }
  return out;
}

/**
 * A copy of `bytes` with ASCII letters A-Z lower-cased; other bytes, including every byte of a
 * multi-byte UTF-8 sequence (all >= 0x80), are unchanged. For header names and values read as bytes.
 */
export function asciiLowerCaseBytes(bytes: ArrayBuffer): ArrayBuffer {
  const n = <usize>bytes.byteLength;
  const out = new ArrayBuffer(<i32>n);
  const src = changetype<usize>(bytes);
  const dst = changetype<usize>(out);
  for (let i: usize = 0; i < n; i++) {
    const c = <u32>load<u8>(src + i);
    store<u8>(dst + i, <u8>(isAsciiUpper(c) ? c | 0x20 : c));
  }
  return out;
}
