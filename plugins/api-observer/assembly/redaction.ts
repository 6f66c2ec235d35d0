// Secrets are removed inside the proxy, before an event is queued: credential headers, configured
// headers, and the values of secret fields in JSON bodies (`"password": "..."`), form bodies and
// query strings (`password=...`). Secret header names are secret fields too, since services echo
// headers in bodies. Matching is on bytes, ASCII case-insensitive, so binary and truncated bodies
// are handled too (an unterminated secret is redacted to the end).

import { ByteBuilder } from "./byte-builder";

export const REDACTED = "[REDACTED]";

const QUOTED_REDACTED = '"' + REDACTED + '"';
const ESCAPED_QUOTED_REDACTED = '\\"' + REDACTED + '\\"';

/** Always redacted, whatever the configuration says. */
const CREDENTIAL_HEADERS: Array<string> = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/** True when header `name` (lower-case, as Envoy passes it) must not leave the proxy. */
export function isSecretHeader(name: string, configured: Array<string>): bool {
  return CREDENTIAL_HEADERS.includes(name) || configured.includes(name);
}

/** True when the `size` bytes at `ptr` are `text` (ASCII, compared code unit to byte). */
export function bytesAre(ptr: usize, size: i32, text: string): bool {
  if (size != text.length) return false;
  for (let i = 0; i < size; i++) if (<i32>load<u8>(ptr + <usize>i) != text.charCodeAt(i)) return false;
  return true;
}

/** `isSecretHeader` for a name given as `size` bytes at `ptr` (lower-case ASCII), with no string made. */
export function isSecretHeaderAt(ptr: usize, size: i32, configured: Array<string>): bool {
  return namesHold(CREDENTIAL_HEADERS, ptr, size) || namesHold(configured, ptr, size);
}

function namesHold(names: Array<string>, ptr: usize, size: i32): bool {
  for (let n = 0; n < names.length; n++) if (bytesAre(ptr, size, unchecked(names[n]))) return true;
  return false;
}

/** Every name whose values are redacted in bodies, paths and queries. */
export function secretFieldNames(bodyFields: Array<string>, headers: Array<string>): Array<string> {
  return bodyFields.concat(CREDENTIAL_HEADERS).concat(headers);
}

function lower(b: u8): u8 {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

/** Field names prepared for byte matching (lower-case UTF-8). */
export class SecretFields {
  readonly names: Array<Uint8Array> = new Array<Uint8Array>();
  /**
   * Bytes a name may start with, either case (1 = some name starts with it). Every quote and form boundary
   * of a body is a candidate; one table read rules out most of them before any name is compared (the name
   * loop was most of api-observer's redaction time). Null when a name is empty, since that matches anywhere.
   */
  private firstBytes: Uint8Array | null = new Uint8Array(256);

  constructor(names: Array<string>) {
    for (let i = 0; i < names.length; i++) {
      const name = Uint8Array.wrap(String.UTF8.encode(names[i].toLowerCase()));
      this.names.push(name);
      const first = this.firstBytes;
      if (first === null) continue;
      if (name.length == 0) {
        this.firstBytes = null;
        continue;
      }
      const b = unchecked(name[0]);
      first[b] = 1;
      if (b >= 97 && b <= 122) first[b - 32] = 1;
    }
  }

  /** False when no name can start at `bytes[at]` (`at` in range). */
  private mayStartAt(bytes: Uint8Array, at: i32): bool {
    const first = this.firstBytes;
    return first === null || unchecked(first[unchecked(bytes[at])]) != 0;
  }

  /** True when `bytes` holds `name` at `start` (ASCII case-insensitive; the caller checked the bounds). */
  private static holds(name: Uint8Array, bytes: Uint8Array, start: i32): bool {
    for (let k = 0; k < name.length; k++) if (lower(unchecked(bytes[start + k])) != unchecked(name[k])) return false;
    return true;
  }

  /**
   * When a field name starts at `start` and is closed by a quote (`\"` when `escaped`), the index of
   * that closing quote; else 0. Only looks as far as the longest name, so scanning stays linear.
   */
  quotedNameEnd(bytes: Uint8Array, start: i32, escaped: bool): i32 {
    if (start >= bytes.length || !this.mayStartAt(bytes, start)) return 0;
    for (let n = 0; n < this.names.length; n++) {
      const end = start + this.names[n].length;
      if (end >= bytes.length) continue;
      const closes = escaped ? bytes[end] == 92 && end + 1 < bytes.length && bytes[end + 1] == 34 : bytes[end] == 34;
      if (closes && SecretFields.holds(this.names[n], bytes, start)) return end;
    }
    return 0;
  }

  /** Length of the name that `bytes` holds at `at`, followed by `=`; 0 when none does. */
  formFieldAt(bytes: Uint8Array, at: i32): i32 {
    if (at >= bytes.length || !this.mayStartAt(bytes, at)) return 0;
    for (let n = 0; n < this.names.length; n++) {
      const name = this.names[n];
      const end = at + name.length;
      if (end >= bytes.length || bytes[end] != 61) continue;
      if (SecretFields.holds(name, bytes, at)) return name.length;
    }
    return 0;
  }
}

/** End (exclusive) of the JSON string whose opening quote is at `quote`; bytes.length when unterminated. */
function jsonStringEnd(bytes: Uint8Array, quote: i32): i32 {
  let i = quote + 1;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b == 92) i += 2;
    else if (b == 34) return i + 1;
    else i++;
  }
  return bytes.length;
}

/** End (exclusive) of the escaped string (`\"...\"`, JSON inside a JSON string) opening at `at`. */
function escapedStringEnd(bytes: Uint8Array, at: i32): i32 {
  for (let i = at + 2; i + 1 < bytes.length; i++) if (bytes[i] == 92 && bytes[i + 1] == 34) return i + 2;
  return bytes.length;
}

function isSpace(b: u8): bool {
  return b == 32 || b == 9 || b == 10 || b == 13;
}

/** End (exclusive) of the JSON value starting at `at` (string, balanced object/array, or scalar). */
function jsonValueEnd(bytes: Uint8Array, at: i32, escaped: bool): i32 {
  const first = bytes[at];
  if (escaped && first == 92 && at + 1 < bytes.length && bytes[at + 1] == 34) return escapedStringEnd(bytes, at);
  if (first == 34) return jsonStringEnd(bytes, at);
  if (first == 123 || first == 91) {
    let depth = 0;
    let i = at;
    while (i < bytes.length) {
      const b = bytes[i];
      if (b == 34) {
        i = jsonStringEnd(bytes, i);
        continue;
      }
      if (b == 123 || b == 91) depth++;
      else if (b == 125 || b == 93) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return bytes.length;
  }
  let i = at;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b == 44 || b == 125 || b == 93 || b == 92 || b == 34 || isSpace(b)) break;
    i++;
  }
  return i;
}

/** Form/query boundary: a field may start at the beginning or after `?`, `&`, `;` or a line break. */
function isFormBoundary(bytes: Uint8Array, at: i32): bool {
  if (at == 0) return true;
  const b = bytes[at - 1];
  return b == 63 || b == 38 || b == 59 || b == 10 || b == 13;
}

/** Where a form value ends: `&`, `;`, `#`, whitespace, or a quote or backslash of surrounding JSON. */
function formValueEnd(bytes: Uint8Array, start: i32): i32 {
  let i = start;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c == 38 || c == 59 || c == 35 || c == 34 || c == 92 || isSpace(c)) break;
    i++;
  }
  return i;
}

/**
 * Returns `bytes` with the values of `fields` replaced by [REDACTED]; the input when nothing matched.
 * Recognised: JSON members (`"name": value`, also escaped as `\"name\":\"value\"` inside a JSON
 * string, as echo services return them) and form or query fields (`name=value`), anywhere in the bytes.
 */
export function redactFields(bytes: Uint8Array, fields: SecretFields): Uint8Array {
  if (fields.names.length == 0 || bytes.length == 0) return bytes;
  let out: ByteBuilder | null = null;
  let copied = 0; // bytes[0, copied) are already in `out`
  let i = 0;
  while (i < bytes.length) {
    const b = unchecked(bytes[i]);
    const escaped = b == 92 && i + 1 < bytes.length && unchecked(bytes[i + 1]) == 34;
    if (b == 34 || escaped) {
      // Maybe a JSON key: a field name in quotes, then a colon.
      const keyStart = i + (escaped ? 2 : 1);
      const keyEnd = fields.quotedNameEnd(bytes, keyStart, escaped);
      if (keyEnd > 0) {
        let j = keyEnd + (escaped ? 2 : 1);
        while (j < bytes.length && isSpace(bytes[j])) j++;
        if (j < bytes.length && bytes[j] == 58) {
          j++;
          while (j < bytes.length && isSpace(bytes[j])) j++;
          if (j < bytes.length) {
            const valueEnd = jsonValueEnd(bytes, j, escaped);
            if (out === null) out = new ByteBuilder(bytes.length + 16);
            out.appendRange(bytes, copied, j);
            out.appendText(escaped ? ESCAPED_QUOTED_REDACTED : QUOTED_REDACTED);
            copied = valueEnd;
            i = valueEnd;
            continue;
          }
        }
      }
    } else if (isFormBoundary(bytes, i)) {
      const nameLength = fields.formFieldAt(bytes, i);
      if (nameLength > 0) {
        const valueStart = i + nameLength + 1;
        const valueEnd = formValueEnd(bytes, valueStart);
        if (out === null) out = new ByteBuilder(bytes.length + 16);
        out.appendRange(bytes, copied, valueStart);
        out.appendText(REDACTED);
        copied = valueEnd;
        i = valueEnd;
        continue;
      }
    }
    i++;
  }
  if (out === null) return bytes;
  out.appendRange(bytes, copied, bytes.length);
  return out.toBytes();
}

/** A request path with the query values of `fields` redacted. */
export function redactPath(path: string, fields: SecretFields): string {
  const query = path.indexOf("?");
  if (query < 0) return path;
  const bytes = Uint8Array.wrap(String.UTF8.encode(path));
  const redacted = redactFields(bytes, fields);
  return redacted === bytes ? path : String.UTF8.decodeUnsafe(redacted.dataStart, <usize>redacted.length);
}
