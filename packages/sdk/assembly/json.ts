// A small JSON reader and writer for plugin configurations and event bodies.
//
// Written here rather than taken from npm: assemblyscript-json (1.1.0) builds with AS 0.28 but
// throws (= traps the VM) on malformed input and adds ~12 KB; json-as needs a compiler transform.
// Request bodies are hostile input, so this reader returns null on any error instead of trapping,
// and bounds nesting depth.

import { toText, utf8Sequence } from "./bytes";

/** The kind of a JSON value. */
export enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

const MAX_DEPTH = 64;
/** The most bytes a JsonWriter holds: 1 GiB less a margin, below the allocator's largest block. */
const MAX_OUTPUT: u64 = (1 << 30) - 1024;

/** A parsed JSON value. Accessors return null (or the fallback) when the shape does not match. */
export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  boolValue: bool = false;
  numberValue: f64 = 0;
  stringValue: string = "";
  /** Array items, or object values (parallel to `keys`). */
  items: Array<JsonValue> | null = null;
  /** Object keys in document order. */
  keys: Array<string> | null = null;

  get isNull(): bool {
    return this.kind == JsonKind.Null;
  }
  get isObject(): bool {
    return this.kind == JsonKind.Object;
  }
  get isArray(): bool {
    return this.kind == JsonKind.Array;
  }

  /** Number of array items or object members. */
  get length(): i32 {
    const items = this.items;
    return items === null ? 0 : items.length;
  }

  /** Member `key` of an object (the last one when repeated), or null. */
  get(key: string): JsonValue | null {
    const keys = this.keys;
    const items = this.items;
    if (this.kind != JsonKind.Object || keys === null || items === null) return null;
    for (let i = keys.length - 1; i >= 0; i--) if (unchecked(keys[i]) == key) return unchecked(items[i]);
    return null;
  }

  /** Item `index` of an array, or null. */
  at(index: i32): JsonValue | null {
    const items = this.items;
    if (this.kind != JsonKind.Array || items === null || index < 0 || index >= items.length) return null;
    return unchecked(items[index]);
  }

  /** String member `key`, or null. */
  getString(key: string): string | null {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.String ? v.stringValue : null;
  }

  /** Number member `key`, or `fallback`. */
  getNumber(key: string, fallback: f64 = 0): f64 {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Number ? v.numberValue : fallback;
  }

  /** Integer member `key` (truncated), or `fallback`. */
  getInteger(key: string, fallback: i64 = 0): i64 {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Number ? <i64>v.numberValue : fallback;
  }

  /** Bool member `key`, or `fallback`. */
  getBool(key: string, fallback: bool = false): bool {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Bool ? v.boolValue : fallback;
  }

  /** Array member `key`, or null. */
  getArray(key: string): JsonValue | null {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Array ? v : null;
  }

  /** Object member `key`, or null. */
  getObject(key: string): JsonValue | null {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Object ? v : null;
  }

  /** Array of strings (non-string items are skipped). */
  stringItems(): Array<string> {
    const out = new Array<string>();
    const items = this.items;
    if (this.kind != JsonKind.Array || items === null) return out;
    for (let i = 0; i < items.length; i++) {
      const item = unchecked(items[i]);
      if (item.kind == JsonKind.String) out.push(item.stringValue);
    }
    return out;
  }
}

/** The 4 hex digits at `at` as a UTF-16 code unit, or -1. */
function hex4At(text: string, at: i32): i32 {
  if (at + 4 > text.length) return -1;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const c = text.charCodeAt(at + i);
    let d = -1;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    if (d < 0) return -1;
    value = (value << 4) | d;
  }
  return value;
}

class Parser {
  pos: i32 = 0;
  failed: bool = false;
  constructor(readonly text: string) {}

  code(): i32 {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  fail(): JsonValue | null {
    this.failed = true;
    return null;
  }

  literal(word: string): bool {
    // Compared in place: a substring per true / false / null was an allocation each.
    const n = word.length;
    if (this.pos + n > this.text.length) return false;
    for (let i = 0; i < n; i++) if (this.text.charCodeAt(this.pos + i) != word.charCodeAt(i)) return false;
    this.pos += n;
    return true;
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail();
    this.skipSpace();
    const c = this.code();
    // Objects, arrays and numbers make their own value: allocate this one only for the others.
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    const v = new JsonValue();
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return this.fail();
      v.kind = JsonKind.String;
      v.stringValue = s;
      return v;
    }
    if (c == 0x74 && this.literal("true")) {
      v.kind = JsonKind.Bool;
      v.boolValue = true;
      return v;
    }
    if (c == 0x66 && this.literal("false")) {
      v.kind = JsonKind.Bool;
      return v;
    }
    if (c == 0x6e && this.literal("null")) return v;
    return this.fail();
  }

  digits(): i32 {
    const start = this.pos;
    while (this.code() >= 0x30 && this.code() <= 0x39) this.pos++;
    return this.pos - start;
  }

  /** Moves past a number; false when there is none (JSON's grammar: no leading zeros, no bare dot). */
  skipNumber(): bool {
    if (this.code() == 0x2d) this.pos++;
    if (this.code() == 0x30) this.pos++;
    else if (this.digits() == 0) return false;
    if (this.code() == 0x2e) {
      this.pos++;
      if (this.digits() == 0) return false;
    }
    if (this.code() == 0x65 || this.code() == 0x45) {
      this.pos++;
      if (this.code() == 0x2b || this.code() == 0x2d) this.pos++;
      if (this.digits() == 0) return false;
    }
    return true;
  }

  number(): JsonValue | null {
    const start = this.pos;
    if (!this.skipNumber()) return this.fail();
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.numberValue = F64.parseFloat(this.text.substring(start, this.pos));
    return v;
  }

  /** Set by `scanString`: where the string's characters start and end, and whether it has escapes. */
  scanStart: i32 = 0;
  scanEnd: i32 = 0;
  scanEscaped: bool = false;

  /**
   * Moves past the string at the opening quote at `pos`, validating its escapes; returns its decoded
   * length, or -1 when it is not a valid string. Builds nothing (`string` decodes what this found).
   */
  scanString(): i32 {
    const text = this.text;
    const n = text.length;
    const start = ++this.pos; // after the opening quote
    let size = 0;
    let escaped = false;
    let i = start;
    while (true) {
      if (i >= n) return -1;
      const c = text.charCodeAt(i);
      if (c == 0x22) break;
      if (c < 0x20) return -1;
      i++;
      size++;
      if (c != 0x5c) continue;
      escaped = true;
      const e = i < n ? text.charCodeAt(i) : -1;
      if (e == 0x75) {
        if (hex4At(text, i + 1) < 0) return -1;
        i += 5;
      } else if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
        i++;
      } else return -1;
    }
    this.scanStart = start;
    this.scanEnd = i;
    this.scanEscaped = escaped;
    this.pos = i + 1;
    return size;
  }

  // Both passes copy each character once: appending to a string per escape would be quadratic, and
  // request bodies can be full of escapes.
  string(): string | null {
    // Pass 1: find the closing quote, validate the escapes, count the decoded length.
    const size = this.scanString();
    if (size < 0) return null;
    const text = this.text;
    const start = this.scanStart;
    const end = this.scanEnd;
    if (!this.scanEscaped) return text.substring(start, end);
    // Pass 2: decode into a string allocated once.
    const out = changetype<string>(__new(<usize>size << 1, idof<string>()));
    let at = changetype<usize>(out);
    for (let j = start; j < end; at += 2) {
      let c = text.charCodeAt(j++);
      if (c == 0x5c) {
        const e = text.charCodeAt(j++);
        if (e == 0x75) {
          c = hex4At(text, j);
          j += 4;
        } else if (e == 0x62) c = 0x08;
        else if (e == 0x66) c = 0x0c;
        else if (e == 0x6e) c = 0x0a;
        else if (e == 0x72) c = 0x0d;
        else if (e == 0x74) c = 0x09;
        else c = e; // " \ /
      }
      store<u16>(at, <u16>c);
    }
    return out;
  }

  /** Whether the key `scanString` just passed is `name` (compared in place unless it has escapes). */
  scannedKeyIs(name: string): bool {
    const length = this.scanEnd - this.scanStart;
    if (this.scanEscaped) {
      this.pos = this.scanStart - 1;
      const key = this.string();
      return key !== null && key == name;
    }
    return (
      length == name.length &&
      memory.compare(
        changetype<usize>(this.text) + (<usize>this.scanStart << 1),
        changetype<usize>(name),
        <usize>length << 1,
      ) == 0
    );
  }

  /** What `walk` built: the value at the path, or null. */
  found: JsonValue | null = null;

  /**
   * Checks and passes over the value at `pos` with `value`'s grammar, building only what lies at
   * `path[level..]` (into `found`); a null path builds nothing. A later repeat of a member on the path
   * replaces an earlier match, as `JsonValue.get` takes the last one. False when the text is not JSON.
   */
  walk(depth: i32, path: Array<string> | null, level: i32): bool {
    if (path !== null && level == path.length) {
      const value = this.value(depth);
      this.found = value;
      return value !== null;
    }
    if (depth > MAX_DEPTH) return false;
    this.skipSpace();
    const c = this.code();
    if (c == 0x22) return this.scanString() >= 0;
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.skipNumber();
    if (c == 0x74) return this.literal("true");
    if (c == 0x66) return this.literal("false");
    if (c == 0x6e) return this.literal("null");
    const array = c == 0x5b;
    if (!array && c != 0x7b) return false;
    // Only an object's members can be on the path.
    const name = !array && path !== null ? unchecked(path[level]) : null;
    this.pos++;
    this.skipSpace();
    if (this.code() == (array ? 0x5d : 0x7d)) {
      this.pos++;
      return true;
    }
    while (true) {
      let onPath = false;
      if (!array) {
        this.skipSpace();
        if (this.code() != 0x22 || this.scanString() < 0) return false;
        onPath = name !== null && this.scannedKeyIs(name);
        this.skipSpace();
        if (this.code() != 0x3a) return false;
        this.pos++;
      }
      if (onPath) this.found = null;
      if (!this.walk(depth + 1, onPath ? path : null, level + 1)) return false;
      this.skipSpace();
      const next = this.code();
      this.pos++;
      if (next == (array ? 0x5d : 0x7d)) return true;
      if (next != 0x2c) return false;
    }
    return false;
  }

  array(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    const items = new Array<JsonValue>();
    v.items = items;
    this.skipSpace();
    if (this.code() == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return this.fail();
      items.push(item);
      this.skipSpace();
      const c = this.code();
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) return this.fail();
    }
    return null;
  }

  object(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    const keys = new Array<string>();
    const items = new Array<JsonValue>();
    v.keys = keys;
    v.items = items;
    this.skipSpace();
    if (this.code() == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.skipSpace();
      if (this.code() != 0x22) return this.fail();
      const key = this.string();
      if (key === null) return this.fail();
      this.skipSpace();
      if (this.code() != 0x3a) return this.fail();
      this.pos++;
      const item = this.value(depth + 1);
      if (item === null) return this.fail();
      keys.push(key);
      items.push(item);
      this.skipSpace();
      const c = this.code();
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) return this.fail();
    }
    return null;
  }
}

/** Parses JSON text; null when it is not exactly one valid JSON value. */
export function parseJson(text: string): JsonValue | null {
  const parser = new Parser(text);
  const value = parser.value(0);
  if (value === null || parser.failed) return null;
  parser.skipSpace();
  return parser.pos == text.length ? value : null;
}

/** Parses UTF-8 JSON bytes (e.g. a plugin configuration or a request body); null when invalid. */
export function parseJsonBytes(bytes: ArrayBuffer): JsonValue | null {
  return parseJson(toText(bytes));
}

/** What `findJson` found: whether the text is JSON, and the value at the path (null when absent). */
export class JsonFound {
  constructor(
    readonly valid: bool,
    readonly value: JsonValue | null,
  ) {}
}

/**
 * The value at `path` (object member names, outermost first; empty for the whole document) in JSON text,
 * building only that value: the rest is checked as `parseJson` checks it but makes no `JsonValue` or
 * string. For reading one field of an answer per request (a callout's JSON body), where parsing the whole
 * document allocates every member only to drop it. `valid` is false when the text is not JSON; `value`
 * is null when it has nothing at `path` (a member missing, or not an object on the way).
 */
export function findJson(text: string, path: Array<string>): JsonFound {
  const parser = new Parser(text);
  if (!parser.walk(0, path, 0) || parser.failed) return new JsonFound(false, null);
  parser.skipSpace();
  if (parser.pos != text.length) return new JsonFound(false, null);
  return new JsonFound(true, parser.found);
}

/** `findJson` over UTF-8 bytes. */
export function findJsonBytes(bytes: ArrayBuffer, path: Array<string>): JsonFound {
  return findJson(toText(bytes), path);
}

/** The letter after `\` for characters JSON escapes briefly (`\"`, `\\`, `\n`, `\r`, `\t`), else 0. */
function shortEscape(c: u32): u32 {
  if (c == 0x22 || c == 0x5c) return c;
  if (c == 0x0a) return 0x6e;
  if (c == 0x0d) return 0x72;
  if (c == 0x09) return 0x74;
  return 0;
}

/** Whether JSON needs `c` escaped (quote, backslash, control character). */
function mustEscape(c: u32): bool {
  return c < 0x20 || c == 0x22 || c == 0x5c;
}

/** Whether the UTF-16 unit `i` of the string at `src` (`n` units) is a surrogate without its partner. */
function isUnpairedSurrogate(src: usize, i: i32, n: i32): bool {
  const c = <u32>load<u16>(src + (<usize>i << 1));
  if ((c & 0xf800) != 0xd800) return false;
  if (c < 0xdc00) return i + 1 >= n || (<u32>load<u16>(src + (<usize>(i + 1) << 1)) & 0xfc00) != 0xdc00;
  return i == 0 || (<u32>load<u16>(src + (<usize>(i - 1) << 1)) & 0xfc00) != 0xd800;
}

/** ASCII hex digit of `d` (0..15), lower case as JSON.stringify writes it. */
function hexDigit(d: u32): u32 {
  return d < 10 ? 0x30 + d : 0x57 + d;
}

/**
 * Writes the JSON escape of the code unit `c` at `p`: `\"`, `\\`, `\n`, `\r`, `\t`, else `\uXXXX`
 * (lower-case hex, as JSON.stringify writes it). Returns the bytes written (2 or 6).
 */
function storeEscape(p: usize, c: u32): i32 {
  store<u8>(p, 0x5c);
  const short = shortEscape(c);
  if (short != 0) {
    store<u8>(p, <u8>short, 1);
    return 2;
  }
  store<u8>(p, 0x75, 1);
  for (let k = 0; k < 4; k++) store<u8>(p + 2 + k, <u8>hexDigit((c >> (12 - 4 * k)) & 15));
  return 6;
}

/**
 * Quotes and escapes `text` as a JSON string: `"`, `\` and control characters are escaped, and so
 * are unpaired surrogates (as `\uXXXX`), so the result stays valid JSON once UTF-8 encoded.
 * Linear: the result is measured, then allocated and filled once.
 */
export function jsonQuote(text: string): string {
  const src = changetype<usize>(text);
  const n = text.length;
  let size = n + 2;
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u16>(src + (<usize>i << 1));
    if (mustEscape(c)) size += shortEscape(c) != 0 ? 1 : 5;
    else if (isUnpairedSurrogate(src, i, n)) size += 5;
  }
  const out = changetype<string>(__new(<usize>size << 1, idof<string>()));
  let p = changetype<usize>(out);
  store<u16>(p, 0x22);
  p += 2;
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u16>(src + (<usize>i << 1));
    if (mustEscape(c) || isUnpairedSurrogate(src, i, n)) {
      store<u16>(p, 0x5c);
      const short = shortEscape(c);
      if (short != 0) {
        store<u16>(p, <u16>short, 2);
        p += 4;
      } else {
        store<u16>(p, 0x75, 2);
        for (let k = 0; k < 4; k++) store<u16>(p + 4 + 2 * k, <u16>hexDigit((c >> (12 - 4 * k)) & 15));
        p += 12;
      }
    } else {
      store<u16>(p, <u16>c);
      p += 2;
    }
  }
  store<u16>(p, 0x22);
  return out;
}

/**
 * Builds JSON as UTF-8 bytes; commas are placed for you.
 * `new JsonWriter().beginObject().key("a").number(1).endObject().toBytes()` is `{"a":1}`.
 *
 * The bytes are written into one buffer that doubles when full, so building costs time and memory
 * linear in the output. (Joining an `Array<string>` is not: at the SDK's `shrinkLevel: 2`,
 * AssemblyScript's join appends part by part, and 8,000 parts took 2,048 pages of guest memory.)
 */
/** Code units `JsonWriter` encodes per reservation (6 bytes each at most). */
const TEXT_BLOCK: i32 = 1024;

export class JsonWriter {
  private buffer: ArrayBuffer;
  private size: i32 = 0;
  // One entry per open container: true until its first element is written.
  private first: Array<bool> = new Array<bool>();
  private afterKey: bool = false;

  /**
   * `capacity`: the bytes to start with (the buffer doubles from there). Worth raising only when
   * most outputs are known to be larger, to skip the first few doublings.
   */
  constructor(capacity: i32 = 256) {
    this.buffer = new ArrayBuffer(max(capacity, 16));
  }

  /**
   * Makes room for `extra` (>= 0) more bytes; returns where the next byte goes. Past MAX_OUTPUT
   * bytes in all it aborts (a trap, with "JsonWriter: output over 1 GiB" logged) instead of letting
   * the size wrap around.
   */
  private reserve(extra: i32): usize {
    const needed = <u64>this.size + <u64>extra;
    let capacity = <u64>this.buffer.byteLength;
    if (needed > capacity) {
      if (needed > MAX_OUTPUT) throw new Error("JsonWriter: output over 1 GiB");
      do capacity <<= 1;
      while (capacity < needed);
      if (capacity > MAX_OUTPUT) capacity = MAX_OUTPUT;
      // Resized like Array's backing store: in place when the allocator can, else moved, and
      // either way the old block is freed now rather than left for the collector.
      this.buffer = changetype<ArrayBuffer>(__renew(changetype<usize>(this.buffer), <usize>capacity));
    }
    return changetype<usize>(this.buffer) + <usize>this.size;
  }

  private byte(b: u32): void {
    store<u8>(this.reserve(1), <u8>b);
    this.size++;
  }

  /** Appends the `length` bytes at `src` as they are. */
  private copy(src: usize, length: i32): void {
    if (length <= 0) return;
    memory.copy(this.reserve(length), src, <usize>length);
    this.size += length;
  }

  /**
   * Writes the `n` UTF-8 bytes at `src` as a JSON string. Runs that need nothing are copied whole;
   * `"`, `\` and control characters are escaped as `text` escapes them; each maximal ill-formed
   * subpart (see bytes.ts utf8Sequence) becomes U+FFFD (EF BF BD), so the output is always valid UTF-8.
   */
  private utf8(src: usize, n: i32): void {
    this.byte(0x22);
    let run = 0; // the first byte not yet copied
    let i = 0;
    while (i < n) {
      const c = <u32>load<u8>(src + <usize>i);
      if (c >= 0x80) {
        const length = utf8Sequence(src + <usize>i, n - i);
        if (length > 0) {
          i += length;
          continue;
        }
        this.copy(src + <usize>run, i - run);
        const p = this.reserve(3);
        store<u8>(p, 0xef);
        store<u8>(p, 0xbf, 1);
        store<u8>(p, 0xbd, 2);
        this.size += 3;
        i -= length;
        run = i;
      } else if (mustEscape(c)) {
        this.copy(src + <usize>run, i - run);
        this.size += storeEscape(this.reserve(6), c);
        run = ++i;
      } else i++;
    }
    this.copy(src + <usize>run, n - run);
    this.byte(0x22);
  }

  /**
   * UTF-8 encodes `text`. Quoted: as a JSON string, escaping `"`, `\`, control characters and
   * unpaired surrogates (which UTF-8 cannot carry). Unquoted (raw JSON): unpaired surrogates
   * become U+FFFD.
   */
  private text(text: string, quoted: bool): void {
    const src = changetype<usize>(text);
    const n = text.length;
    let i = 0;
    let opening = quoted;
    do {
      // Room for a block of code units at once (6 bytes covers the longest form of one, \uXXXX, and a
      // surrogate pair's 4 bytes) and the quotes: reserving per unit, and again per quote, was most of the
      // cost of writing a short string.
      const blockEnd = min(n, i + TEXT_BLOCK);
      const start = this.reserve((blockEnd - i) * 6 + 2);
      let p = start;
      if (opening) {
        store<u8>(p++, 0x22);
        opening = false;
      }
      for (; i < blockEnd; i++) {
        let c = <u32>load<u16>(src + (<usize>i << 1));
        if (c < 0x80) {
          if (quoted && mustEscape(c)) p += <usize>storeEscape(p, c);
          else store<u8>(p++, <u8>c);
        } else if (c < 0x800) {
          store<u8>(p, <u8>(0xc0 | (c >> 6)));
          store<u8>(p, <u8>(0x80 | (c & 63)), 1);
          p += 2;
        } else {
          if ((c & 0xf800) == 0xd800) {
            const low = i + 1 < n ? <u32>load<u16>(src + (<usize>(i + 1) << 1)) : 0;
            if (c < 0xdc00 && (low & 0xfc00) == 0xdc00) {
              const cp = 0x10000 + ((c & 0x3ff) << 10) + (low & 0x3ff);
              store<u8>(p, <u8>(0xf0 | (cp >> 18)));
              store<u8>(p, <u8>(0x80 | ((cp >> 12) & 63)), 1);
              store<u8>(p, <u8>(0x80 | ((cp >> 6) & 63)), 2);
              store<u8>(p, <u8>(0x80 | (cp & 63)), 3);
              p += 4;
              i++; // the pair's low half; its room was reserved with the block (or is the high half's spare)
              continue;
            }
            if (quoted) {
              p += <usize>storeEscape(p, c);
              continue;
            }
            c = 0xfffd;
          }
          store<u8>(p, <u8>(0xe0 | (c >> 12)));
          store<u8>(p, <u8>(0x80 | ((c >> 6) & 63)), 1);
          store<u8>(p, <u8>(0x80 | (c & 63)), 2);
          p += 3;
        }
      }
      if (quoted && i >= n) store<u8>(p++, 0x22);
      this.size += <i32>(p - start);
    } while (i < n);
  }

  private separate(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const depth = this.first.length;
    if (depth == 0) return;
    if (unchecked(this.first[depth - 1])) unchecked((this.first[depth - 1] = false));
    else this.byte(0x2c);
  }

  beginObject(): JsonWriter {
    this.separate();
    this.byte(0x7b);
    this.first.push(true);
    return this;
  }
  endObject(): JsonWriter {
    this.first.pop();
    this.byte(0x7d);
    return this;
  }
  beginArray(): JsonWriter {
    this.separate();
    this.byte(0x5b);
    this.first.push(true);
    return this;
  }
  endArray(): JsonWriter {
    this.first.pop();
    this.byte(0x5d);
    return this;
  }
  /**
   * Writes a key encoded once (`JsonKey`): one copy of its bytes, where `key` encodes and escapes the name
   * again on every call. For the fixed keys of a document written per request.
   */
  field(key: JsonKey): JsonWriter {
    this.separate();
    this.copy(changetype<usize>(key.bytes), key.bytes.byteLength);
    this.afterKey = true;
    return this;
  }
  /** Writes an object key; the next value belongs to it. */
  key(name: string): JsonWriter {
    this.separate();
    this.text(name, true);
    this.byte(0x3a);
    this.afterKey = true;
    return this;
  }
  string(value: string): JsonWriter {
    this.separate();
    this.text(value, true);
    return this;
  }
  /**
   * Writes the `size` UTF-8 bytes at `ptr` as an object key, escaped and repaired as `utf8String` does:
   * for bytes read in place, such as a `SerializedHeaders` entry's name, with no string in between.
   */
  keyUtf8At(ptr: usize, size: i32): JsonWriter {
    this.separate();
    this.utf8(ptr, size);
    this.byte(0x3a);
    this.afterKey = true;
    return this;
  }
  /** Writes the `size` UTF-8 bytes at `ptr` as a JSON string (see `keyUtf8At`). */
  stringUtf8At(ptr: usize, size: i32): JsonWriter {
    this.separate();
    this.utf8(ptr, size);
    return this;
  }
  /**
   * Writes UTF-8 bytes (an `ArrayBuffer` or a `Uint8Array`, e.g. a captured body) as a JSON string,
   * without decoding them to a string first: one pass, runs of plain bytes copied whole. `"`, `\`
   * and control characters are escaped as `string` escapes them. Invalid UTF-8 never makes invalid
   * JSON: each maximal ill-formed subpart (a stray or overlong byte, an encoded surrogate, a
   * sequence cut short) becomes one U+FFFD, exactly as `TextDecoder` and Node decode the bytes. To
   * tell text from binary first (e.g. to send binary as base64 instead), use `isValidUtf8`.
   * A null buffer (`requestBody.read()` without a body) is written as `null`, as `stringOrNull`
   * writes a null string.
   */
  utf8String<T>(bytes: T): JsonWriter {
    // A nullable T even after a null check: inference takes the declared type, not the narrowed one.
    if (isNullable<T>()) {
      if (bytes === null) return this.null();
      return this.utf8String<NonNullable<T>>(changetype<NonNullable<T>>(bytes));
    }
    this.separate();
    if (bytes instanceof Uint8Array) this.utf8(bytes.dataStart, bytes.length);
    else if (bytes instanceof ArrayBuffer) this.utf8(changetype<usize>(bytes), bytes.byteLength);
    else ERROR("JsonWriter.utf8String takes an ArrayBuffer or a Uint8Array");
    return this;
  }
  /** Writes a nullable string (null as `null`). */
  stringOrNull(value: string | null): JsonWriter {
    if (value === null) return this.null();
    return this.string(value);
  }
  number(value: f64): JsonWriter {
    // JSON has no NaN/Infinity; write null rather than invalid JSON.
    if (!isFinite(value)) return this.raw("null");
    if (value == Math.floor(value) && Math.abs(value) < 1e15) return this.integer(<i64>value);
    return this.raw(value.toString());
  }
  integer(value: i64): JsonWriter {
    this.separate();
    // Digits straight into the buffer: no string per number.
    let magnitude: u64 = value < 0 ? <u64>-value : <u64>value; // -i64.MIN_VALUE wraps to its magnitude
    let digits = 1;
    for (let rest = magnitude / 10; rest != 0; rest /= 10) digits++;
    const length = value < 0 ? digits + 1 : digits;
    const p = this.reserve(length);
    if (value < 0) store<u8>(p, 0x2d);
    for (let at = p + <usize>length - 1; digits > 0; digits--, at--) {
      store<u8>(at, <u8>(0x30 + <u32>(magnitude % 10)));
      magnitude /= 10;
    }
    this.size += length;
    return this;
  }
  bool(value: bool): JsonWriter {
    return this.raw(value ? "true" : "false");
  }
  null(): JsonWriter {
    return this.raw("null");
  }
  /** Inserts already-serialized JSON as the next value. */
  raw(json: string): JsonWriter {
    this.separate();
    this.text(json, false);
    return this;
  }
  /**
   * Empties the writer for the next document, keeping its buffer: a writer kept by a root context and
   * reset per request allocates nothing once its buffer has grown to fit.
   */
  reset(): JsonWriter {
    this.size = 0;
    this.first.length = 0;
    this.afterKey = false;
    return this;
  }
  /** The JSON as UTF-8 bytes (e.g. a local reply or an HTTP callout body): the writer's native output. */
  toBytes(): ArrayBuffer {
    return this.buffer.slice(0, this.size);
  }
  /** The JSON as a string (decodes the bytes `toBytes` returns). */
  toString(): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.buffer), <usize>this.size);
  }
}

/**
 * An object key encoded once: quoted, escaped and followed by its colon, as `JsonWriter.key` writes it.
 * Keep one per fixed key in a module constant and write it with `JsonWriter.field`.
 */
export class JsonKey {
  readonly bytes: ArrayBuffer;
  constructor(readonly name: string) {
    // A key outside any container is written with no separator: exactly the bytes `field` copies.
    this.bytes = new JsonWriter(name.length * 6 + 3).key(name).toBytes();
  }
}
