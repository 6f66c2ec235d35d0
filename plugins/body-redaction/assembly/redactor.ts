// The redaction itself, on bytes: bodies need not be UTF-8, and decoding them would mangle binary data.
//
// For each secret name N it rewrites
//   N=value        ->  N=[REDACTED]       (query strings, form bodies, env files, log lines)
//   "N": "value"   ->  "N": "[REDACTED]"  (JSON members with a string value)
// A bare value ends at the first delimiter (whitespace & ; , " ' < > \ ) ] }), so the secret itself is gone,
// unlike a plain replace of "N=" that would leave it in place.

/** A growable byte buffer for the rewritten body. */
class ByteWriter {
  bytes: Uint8Array;
  length: i32 = 0;

  constructor(capacity: i32) {
    this.bytes = new Uint8Array(max(capacity, 16));
  }

  private reserve(extra: i32): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  append(source: Uint8Array, start: i32, end: i32): void {
    const size = end - start;
    if (size <= 0) return;
    this.reserve(size);
    this.bytes.set(source.subarray(start, end), this.length);
    this.length += size;
  }

  appendAll(source: Uint8Array): void {
    this.append(source, 0, source.length);
  }

  toArrayBuffer(): ArrayBuffer {
    return this.bytes.slice(0, this.length).buffer;
  }
}

function isValueDelimiter(c: u8): bool {
  return (
    c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a || // whitespace
    c == 0x26 || c == 0x3b || c == 0x2c || // & ; ,
    c == 0x22 || c == 0x27 || c == 0x3c || c == 0x3e || c == 0x5c || // " ' < > \
    c == 0x29 || c == 0x5d || c == 0x7d // ) ] }
  );
}

function isJsonSpace(c: u8): bool {
  return c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a;
}

function matchesAt(body: Uint8Array, at: i32, name: Uint8Array): bool {
  if (at + name.length > body.length) return false;
  for (let i = 0; i < name.length; i++) if (body[at + i] != name[i]) return false;
  return true;
}

/** The result of one redaction pass. */
export class Redaction {
  constructor(
    /** The rewritten body, or null when nothing matched. */
    readonly body: ArrayBuffer | null,
    readonly count: i32,
  ) {}
}

/** Redacts every secret in `body`. */
export function redactSecrets(body: Uint8Array, secrets: Array<Uint8Array>, replacement: Uint8Array): Redaction {
  const out = new ByteWriter(body.length + 64);
  let copied = 0; // body[copied, i) is still to be written to `out`
  let count = 0;
  let i = 0;
  while (i < body.length) {
    let next = -1;
    for (let s = 0; s < secrets.length && next < 0; s++) {
      const name = secrets[s];
      if (!matchesAt(body, i, name)) continue;
      const after = i + name.length;
      if (after < body.length && body[after] == 0x3d) {
        // N=value: keep "N=", drop the value.
        let end = after + 1;
        while (end < body.length && !isValueDelimiter(body[end])) end++;
        out.append(body, copied, after + 1);
        out.appendAll(replacement);
        next = end;
      } else if (i > 0 && body[i - 1] == 0x22 && after < body.length && body[after] == 0x22) {
        // "N" : "value": keep everything up to the value's opening quote, drop the value's content.
        let at = after + 1;
        while (at < body.length && isJsonSpace(body[at])) at++;
        if (at >= body.length || body[at] != 0x3a) continue;
        at++;
        while (at < body.length && isJsonSpace(body[at])) at++;
        if (at >= body.length || body[at] != 0x22) continue;
        let end = at + 1;
        while (end < body.length && body[end] != 0x22) end += body[end] == 0x5c ? 2 : 1;
        out.append(body, copied, at + 1);
        out.appendAll(replacement);
        // An unterminated string is redacted to the end of the body.
        next = min(end, body.length);
      }
    }
    if (next < 0) {
      i++;
      continue;
    }
    count++;
    copied = next;
    i = next;
  }
  if (count == 0) return new Redaction(null, 0);
  out.append(body, copied, body.length);
  return new Redaction(out.toArrayBuffer(), count);
}
