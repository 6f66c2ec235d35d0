// A small JSON reader and writer for plugin configurations and event bodies.
//
// Written here rather than taken from npm: assemblyscript-json (1.1.0) builds with AS 0.28 but
// throws (= traps the VM) on malformed input and adds ~12 KB; json-as needs a compiler transform.
// Request bodies are hostile input, so this reader returns null on any error instead of trapping,
// and bounds nesting depth.

import { toText } from "./bytes";

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
    if (this.text.substr(this.pos, word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail();
    this.skipSpace();
    const c = this.code();
    const v = new JsonValue();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
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
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail();
  }

  digits(): i32 {
    const start = this.pos;
    while (this.code() >= 0x30 && this.code() <= 0x39) this.pos++;
    return this.pos - start;
  }

  number(): JsonValue | null {
    const start = this.pos;
    if (this.code() == 0x2d) this.pos++;
    if (this.code() == 0x30) this.pos++;
    else if (this.digits() == 0) return this.fail();
    if (this.code() == 0x2e) {
      this.pos++;
      if (this.digits() == 0) return this.fail();
    }
    if (this.code() == 0x65 || this.code() == 0x45) {
      this.pos++;
      if (this.code() == 0x2b || this.code() == 0x2d) this.pos++;
      if (this.digits() == 0) return this.fail();
    }
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.numberValue = F64.parseFloat(this.text.substring(start, this.pos));
    return v;
  }

  hex4(): i32 {
    if (this.pos + 4 > this.text.length) return -1;
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text.charCodeAt(this.pos + i);
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      if (d < 0) return -1;
      value = (value << 4) | d;
    }
    this.pos += 4;
    return value;
  }

  string(): string | null {
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    while (true) {
      if (this.pos >= this.text.length) return null;
      const c = this.text.charCodeAt(this.pos);
      if (c == 0x22) {
        out += this.text.substring(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) return null;
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      out += this.text.substring(runStart, this.pos);
      this.pos++;
      const e = this.code();
      this.pos++;
      if (e == 0x22) out += '"';
      else if (e == 0x5c) out += "\\";
      else if (e == 0x2f) out += "/";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6e) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        const unit = this.hex4();
        if (unit < 0) return null;
        out += String.fromCharCode(unit);
      } else return null;
      runStart = this.pos;
    }
    return null;
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

/** Quotes and escapes `text` as a JSON string. */
export function jsonQuote(text: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += text.substring(runStart, i);
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    runStart = i + 1;
  }
  return out + text.substring(runStart) + '"';
}

/**
 * Builds JSON text; commas are placed for you.
 * `new JsonWriter().beginObject().key("a").number(1).endObject().toString()` is `{"a":1}`.
 */
export class JsonWriter {
  private parts: Array<string> = new Array<string>();
  // One entry per open container: true until its first element is written.
  private first: Array<bool> = new Array<bool>();
  private afterKey: bool = false;

  private separate(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const depth = this.first.length;
    if (depth == 0) return;
    if (unchecked(this.first[depth - 1])) unchecked((this.first[depth - 1] = false));
    else this.parts.push(",");
  }

  beginObject(): JsonWriter {
    this.separate();
    this.parts.push("{");
    this.first.push(true);
    return this;
  }
  endObject(): JsonWriter {
    this.first.pop();
    this.parts.push("}");
    return this;
  }
  beginArray(): JsonWriter {
    this.separate();
    this.parts.push("[");
    this.first.push(true);
    return this;
  }
  endArray(): JsonWriter {
    this.first.pop();
    this.parts.push("]");
    return this;
  }
  /** Writes an object key; the next value belongs to it. */
  key(name: string): JsonWriter {
    this.separate();
    this.parts.push(jsonQuote(name));
    this.parts.push(":");
    this.afterKey = true;
    return this;
  }
  string(value: string): JsonWriter {
    this.separate();
    this.parts.push(jsonQuote(value));
    return this;
  }
  /** Writes a nullable string (null as `null`). */
  stringOrNull(value: string | null): JsonWriter {
    if (value === null) return this.null();
    return this.string(value);
  }
  number(value: f64): JsonWriter {
    this.separate();
    // JSON has no NaN/Infinity; write null rather than invalid JSON.
    this.parts.push(isFinite(value) ? (value == Math.floor(value) && Math.abs(value) < 1e15 ? (<i64>value).toString() : value.toString()) : "null");
    return this;
  }
  integer(value: i64): JsonWriter {
    this.separate();
    this.parts.push(value.toString());
    return this;
  }
  bool(value: bool): JsonWriter {
    this.separate();
    this.parts.push(value ? "true" : "false");
    return this;
  }
  null(): JsonWriter {
    this.separate();
    this.parts.push("null");
    return this;
  }
  /** Inserts already-serialized JSON as the next value. */
  raw(json: string): JsonWriter {
    this.separate();
    this.parts.push(json);
    return this;
  }
  toString(): string {
    return this.parts.join("");
  }
  /** The JSON as UTF-8 bytes (e.g. for an HTTP callout body). */
  toBytes(): ArrayBuffer {
    return String.UTF8.encode(this.toString());
  }
}
