/**
 * Ordered header maps of raw bytes. Names are stored lower-cased (Envoy keys every header map with
 * `LowerCaseString`, so lookups are case-insensitive); repeated names stay as separate entries, in order.
 * The text helpers are in `bytes.ts`, the spec's pairs serialization in `pairs.ts`.
 */
import {
  encodeLatin1,
  encodeString,
  latin1String,
  latin1Text,
  lowerAscii,
  lowerAsciiText,
  ownedBytes,
  utf8String,
} from "./bytes.ts";
import { BytesKeyedCache } from "./bytes-keyed-cache.ts";
import { serializedListsSize, serializeLists, serializePairList } from "./pairs.ts";
import type { HeaderInput, HeaderPair } from "./types.ts";

/** True when latin1 `stored` (lower-case) equals `mem[ptr, ptr+len)` compared ASCII-case-insensitively. */
function sameText(stored: string, mem: Uint8Array, ptr: number, len: number): boolean {
  if (stored.length !== len) return false;
  for (let j = 0; j < len; j++) {
    const b = mem[ptr + j]!;
    if (stored.charCodeAt(j) !== (b >= 0x41 && b <= 0x5a ? b | 0x20 : b)) return false;
  }
  return true;
}

/** `sameText` for a stored name in any case (an embedder's string entries are not lower-cased yet). */
function sameTextAnyCase(stored: string, mem: Uint8Array, ptr: number, len: number): boolean {
  if (stored.length !== len) return false;
  for (let j = 0; j < len; j++) {
    const b = mem[ptr + j]!;
    const c = stored.charCodeAt(j);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== (b >= 0x41 && b <= 0x5a ? b | 0x20 : b)) return false;
  }
  return true;
}

/** True when every char of `text` is ASCII (so its UTF-8 and latin1 encodings are the same bytes). */
function isAscii(text: string): boolean {
  for (let j = 0; j < text.length; j++) if (text.charCodeAt(j) > 0x7f) return false;
  return true;
}

/** True when every name is ASCII, so a name's length is its UTF-8 length (and chars compare as bytes). */
function asciiNames(pairs: ReadonlyArray<readonly [string, string]>): boolean {
  for (let i = 0; i < pairs.length; i++) if (!isAscii(pairs[i]![0])) return false;
  return true;
}

/**
 * The embedder's string pairs as latin1 text entries (names lower-cased), or null when a name or value is
 * not ASCII (its UTF-8 bytes are not one per char). Pairs whose name is lower-case already are shared, not
 * copied: text entries replace whole pairs and never change one in place.
 */
function asciiTextPairs(pending: ReadonlyArray<readonly [string, string]>): Array<[string, string]> | null {
  const pairs = new Array<[string, string]>(pending.length);
  for (let i = 0; i < pending.length; i++) {
    const pair = pending[i]!;
    const name = pair[0];
    const value = pair[1];
    if (!isAscii(name) || !isAscii(value)) return null;
    const lower = lowerAsciiText(name);
    pairs[i] = lower === name ? (pair as [string, string]) : [lower, value];
  }
  return pairs;
}

// Lower-cased encodings of header names seen from embedders. Names are never mutated in place, so maps can
// share them; the cache is bounded so hostile traffic cannot grow it without limit.
const nameCache = new Map<string, Uint8Array>();
const NAME_CACHE_LIMIT = 4096;

// The same for names an embedder gives as bytes (a proxy holds the names it parsed as bytes): keyed by
// the bytes, so a name seen before is looked up instead of copied. Names longer than 64 bytes are copied.
const byteNameCache = new BytesKeyedCache<Uint8Array>(NAME_CACHE_LIMIT, 64);

function ownedName(name: Uint8Array): Uint8Array {
  return byteNameCache.get(name, lowerAscii);
}

function encodeName(name: string, latin1: boolean): Uint8Array {
  let bytes = nameCache.get(name);
  if (bytes === undefined) {
    const encoded = latin1 ? encodeLatin1(name) : encodeString(name);
    bytes = lowerAscii(encoded);
    // UTF-8 and latin1 agree on ASCII only: other names are not shared between the two encodings.
    if (encoded.length === name.length && !encoded.some((b) => b > 0x7f) && nameCache.size < NAME_CACHE_LIMIT)
      nameCache.set(name, bytes);
  }
  return bytes;
}

/** True when `stored` (already lower-case) equals `mem[ptr, ptr+len)` compared ASCII-case-insensitively. */
function sameBytes(stored: Uint8Array, mem: Uint8Array, ptr: number, len: number): boolean {
  if (stored.length !== len) return false;
  for (let j = 0; j < len; j++) {
    const b = mem[ptr + j]!;
    if (stored[j] !== (b >= 0x41 && b <= 0x5a ? b | 0x20 : b)) return false;
  }
  return true;
}

/** True when `stored` (already lower-case) equals `key` compared ASCII-case-insensitively. */
function sameName(stored: Uint8Array, key: Uint8Array): boolean {
  return sameBytes(stored, key, 0, key.length);
}

function setPair(target: Array<[string, string]>, i: number, name: string, value: string): void {
  const pair = target[i];
  if (pair === undefined || pair[0] !== name || pair[1] !== value) target[i] = [name, value];
}

/**
 * Entries kept as latin1 text (one char per byte) in the pairs list an embedder that speaks HTTP/1 holds
 * (names lower-case). A plugin that reads a few headers, replaces one or removes one works on the text
 * directly; no byte array is made for an entry it never reads. Edits replace whole pairs in the list and
 * never change a pair in place, so pairs shared with a copy of the list stay as they were.
 */
class TextEntries {
  constructor(readonly pairs: Array<[string, string]>) {}

  indexAt(mem: Uint8Array, ptr: number, len: number): number {
    const pairs = this.pairs;
    for (let i = 0; i < pairs.length; i++) if (sameText(pairs[i]![0], mem, ptr, len)) return i;
    return -1;
  }

  replace(name: string, value: string): void {
    const pairs = this.pairs;
    let found = -1;
    for (let i = 0; i < pairs.length; i++) {
      if (pairs[i]![0] !== name) continue;
      if (found < 0) {
        found = i;
        pairs[i] = [name, value];
      } else {
        pairs.splice(i, 1);
        i--;
      }
    }
    if (found < 0) pairs.push([name, value]);
  }

  /** Removes every entry named as `mem[ptr, ptr+len)` (in any case). */
  removeAt(mem: Uint8Array, ptr: number, len: number): void {
    const pairs = this.pairs;
    for (let i = pairs.length - 1; i >= 0; i--) if (sameText(pairs[i]![0], mem, ptr, len)) pairs.splice(i, 1);
  }

  serializedSize(): number {
    let size = 4;
    for (const [name, value] of this.pairs) size += 8 + name.length + value.length + 2;
    return size;
  }

  serializeInto(out: Uint8Array, offset: number): void {
    serializePairList(this.pairs, out, offset);
  }
}

/** An ordered multi-map of byte names to byte values. */
export class HeaderMap {
  // Entries given as strings are encoded only when first needed: a plugin that never reads a map (and an
  // embedder that never reads it back) then costs no byte arrays, which dominates a no-op stream.
  private pending: ReadonlyArray<readonly [string, string]> | null = null;
  /** Whether every pending name is ASCII (lookups then read the strings in place); undefined until asked. */
  private pendingNamesAscii: boolean | undefined = undefined;
  /** Entries held as latin1 text (`fromLatin1`) until something asks for the byte arrays. */
  private text: TextEntries | null = null;
  private readonly nameList: Uint8Array[] = [];
  private readonly valueList: Uint8Array[] = [];
  /**
   * True once an entry was added, replaced or removed through the map's methods (the hostcalls): an embedder
   * that handed a map to a plugin copies it back only then.
   */
  modified = false;

  /** Lower-cased names, parallel to `values`. */
  get names(): Uint8Array[] {
    if (this.pending !== null || this.text !== null) this.materialize();
    return this.nameList;
  }

  get values(): Uint8Array[] {
    if (this.pending !== null || this.text !== null) this.materialize();
    return this.valueList;
  }

  /**
   * Before an edit: entries still held as the embedder's strings become text entries when they are all
   * ASCII (the same bytes, one per char), so adding, replacing or removing one header edits the list
   * instead of encoding every entry (callout-enrichment's remove and regional-routing's replace did that
   * per request). Other string entries are encoded.
   */
  private prepareEdit(): void {
    const pending = this.pending;
    if (pending === null) return;
    const pairs = asciiTextPairs(pending);
    if (pairs === null) {
      this.materialize();
      return;
    }
    this.pending = null;
    this.text = new TextEntries(pairs);
  }

  private materialize(): void {
    const text = this.text;
    if (text !== null) {
      this.text = null;
      for (const [name, value] of text.pairs) {
        this.nameList.push(encodeName(name, true));
        this.valueList.push(encodeLatin1(value));
      }
      return;
    }
    const pending = this.pending!;
    this.pending = null;
    for (const [name, value] of pending) {
      this.nameList.push(encodeName(name, false));
      this.valueList.push(encodeString(value));
    }
  }

  /**
   * A map of header text whose characters are bytes (latin1), as Node's HTTP parser gives it. Byte arrays
   * are made only for what a plugin reads; `latin1Entries()` gives the (possibly edited) text back. The
   * list is copied (names lower-cased), so later changes to it do not leak in.
   */
  static fromLatin1(list: ReadonlyArray<readonly [string, string]>): HeaderMap {
    const pairs: Array<[string, string]> = [];
    for (const [name, value] of list) pairs.push([lowerAsciiText(name), value]);
    return HeaderMap.latin1View(pairs);
  }

  /**
   * A map over the embedder's own list of latin1 pairs, whose names must be lower-case already: nothing is
   * copied. The map reads the list as it is at the time, and a plugin's edits are made in it (whole pairs
   * replaced, added or removed), as a plugin and Envoy's router share one header map. Byte arrays are made
   * only for what a plugin reads. Operations that need byte arrays for every entry (replacing the whole
   * map, clearing it) detach the map from the list; `copyLatin1Into(list)` then writes the result back.
   */
  static latin1View(pairs: Array<[string, string]>): HeaderMap {
    const map = new HeaderMap();
    map.text = new TextEntries(pairs);
    return map;
  }

  /** The entries as latin1 text (one char per byte): what `fromLatin1` takes. */
  latin1Entries(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    this.copyLatin1Into(out);
    return out;
  }

  /**
   * Makes `target` hold the entries as latin1 text pairs, in order. Pairs of `target` whose text is
   * unchanged are kept as they are: an embedder copying a plugin's few edits back into the list it gave to
   * `fromLatin1` allocates only for those edits.
   */
  copyLatin1Into(target: Array<[string, string]>): void {
    const text = this.text;
    let n: number;
    if (text !== null) {
      if (text.pairs === target) return;
      n = text.pairs.length;
      for (let i = 0; i < n; i++) setPair(target, i, text.pairs[i]![0], text.pairs[i]![1]);
    } else {
      const names = this.names;
      const values = this.values;
      n = names.length;
      for (let i = 0; i < n; i++) setPair(target, i, latin1String(names[i]!), latin1String(values[i]!));
    }
    target.length = n;
  }

  /** Builds a map from embedder input (strings are UTF-8; names are lower-cased). */
  static from(input: HeaderInput | HeaderMap | undefined): HeaderMap {
    const map = new HeaderMap();
    if (input instanceof HeaderMap) {
      // Still-unencoded entries stay so (strings are immutable); byte arrays are shared, never mutated.
      map.pending = input.pending;
      map.pendingNamesAscii = input.pendingNamesAscii;
      if (input.text !== null) map.text = new TextEntries(input.text.pairs.slice());
      map.nameList.push(...input.nameList);
      map.valueList.push(...input.valueList);
    } else if (input) {
      // Indexed, not `for (const [name, value] of input)` (the iterator protocol per pair): every stream's
      // headers come through here.
      let allStrings = true;
      for (let i = 0; i < input.length; i++) {
        const pair = input[i]!;
        if (typeof pair[0] !== "string" || typeof pair[1] !== "string") {
          allStrings = false;
          break;
        }
      }
      if (allStrings) {
        // A shallow copy: strings are immutable, so later changes to the caller's array cannot leak in.
        map.pending = input.slice() as ReadonlyArray<readonly [string, string]>;
      } else {
        // Byte arrays are copied (the embedder may reuse them). Latin1 text was tried instead (Node's
        // latin1Slice per name and value, for text entries): a string cost more to make than a copy.
        for (let i = 0; i < input.length; i++) {
          const pair = input[i]!;
          const name = pair[0];
          map.nameList.push(typeof name === "string" ? encodeName(name, false) : ownedName(name));
          map.valueList.push(ownedBytes(pair[1]));
        }
      }
    }
    return map;
  }

  get size(): number {
    if (this.text !== null) return this.text.pairs.length;
    return this.pending !== null ? this.pending.length : this.nameList.length;
  }

  /** First value for `name`, or undefined. `name` may be in any case. */
  get(name: Uint8Array): Uint8Array | undefined {
    if (this.text !== null || this.pending !== null) return this.getAt(name, 0, name.length);
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (sameName(names[i]!, name)) return this.values[i];
    return undefined;
  }

  /** Every value for `name`, in order (none when absent). `name` may be in any case. */
  getAll(name: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    const text = this.text;
    if (text !== null) {
      // Read in place: a map over the embedder's latin1 list stays attached to it.
      const pairs = text.pairs;
      for (let i = 0; i < pairs.length; i++)
        if (sameText(pairs[i]![0], name, 0, name.length)) out.push(encodeLatin1(pairs[i]![1]));
      return out;
    }
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (sameName(names[i]!, name)) out.push(this.values[i]!);
    return out;
  }

  /** First value for the name at `mem[ptr, ptr+len)` (guest memory), without copying the name out. */
  getAt(mem: Uint8Array, ptr: number, len: number): Uint8Array | undefined {
    const text = this.text;
    if (text !== null) {
      const i = text.indexAt(mem, ptr, len);
      return i < 0 ? undefined : encodeLatin1(text.pairs[i]![1]);
    }
    const pending = this.pending;
    if (pending !== null && this.pendingNamesAscii === undefined)
      this.pendingNamesAscii = asciiNames(pending);
    if (pending !== null && this.pendingNamesAscii) {
      // Read in place: one lookup (a plugin reading `:status`) encodes one value, not the whole map.
      for (let i = 0; i < pending.length; i++) {
        const pair = pending[i]!;
        if (sameTextAnyCase(pair[0], mem, ptr, len)) return encodeString(pair[1]);
      }
      return undefined;
    }
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (sameBytes(names[i]!, mem, ptr, len)) return this.values[i];
    return undefined;
  }

  /** Appends an entry; copies `name` (lower-cased) but keeps `value` as given (callers pass owned bytes). */
  add(name: Uint8Array, value: Uint8Array): void {
    this.modified = true;
    this.prepareEdit();
    if (this.text !== null) {
      this.text.pairs.push([lowerAsciiText(latin1String(name)), latin1String(value)]);
      return;
    }
    this.names.push(ownedName(name));
    this.values.push(value);
  }

  /** `add` with the name and value at `mem[ptr, ptr+len)` (guest memory); copies what it keeps. */
  addFrom(mem: Uint8Array, namePtr: number, nameLen: number, valuePtr: number, valueLen: number): void {
    this.prepareEdit();
    if (this.text !== null) {
      this.modified = true;
      this.text.pairs.push([
        lowerAsciiText(latin1Text(mem, namePtr, nameLen)),
        latin1Text(mem, valuePtr, valueLen),
      ]);
      return;
    }
    this.modified = true;
    // The name is looked up where it lies (a view of it costs more than the lookup).
    this.names.push(byteNameCache.getAt(mem, namePtr, nameLen, lowerAscii));
    this.values.push(mem.slice(valuePtr, valuePtr + valueLen));
  }

  /** `replace` with the name and value at `mem[ptr, ptr+len)` (guest memory); copies what it keeps. */
  replaceFrom(mem: Uint8Array, namePtr: number, nameLen: number, valuePtr: number, valueLen: number): void {
    this.prepareEdit();
    if (this.text !== null) {
      this.modified = true;
      this.text.replace(
        lowerAsciiText(latin1Text(mem, namePtr, nameLen)),
        latin1Text(mem, valuePtr, valueLen),
      );
      return;
    }
    this.modified = true;
    this.replaceBytes(mem, namePtr, nameLen, mem.slice(valuePtr, valuePtr + valueLen));
  }

  /** Sets the first entry named `name` to `value` and removes later duplicates; appends when absent. */
  replace(name: Uint8Array, value: Uint8Array): void {
    this.modified = true;
    this.prepareEdit();
    if (this.text !== null) {
      this.text.replace(lowerAsciiText(latin1String(name)), latin1String(value));
      return;
    }
    this.replaceBytes(name, 0, name.length, value);
  }

  /** `replace` on the byte lists, the name being `mem[ptr, ptr+len)` (compared in place). */
  private replaceBytes(mem: Uint8Array, ptr: number, len: number, value: Uint8Array): void {
    const names = this.names;
    let found = -1;
    for (let i = 0; i < names.length; i++) {
      if (!sameBytes(names[i]!, mem, ptr, len)) continue;
      if (found < 0) {
        found = i;
        this.values[i] = value;
      } else {
        names.splice(i, 1);
        this.values.splice(i, 1);
        i--;
      }
    }
    if (found < 0) {
      names.push(byteNameCache.getAt(mem, ptr, len, lowerAscii));
      this.values.push(value);
    }
  }

  /** Removes every entry named `name` (in any case). */
  remove(name: Uint8Array): void {
    this.removeFrom(name, 0, name.length);
  }

  /** `remove` with the name at `mem[ptr, ptr+len)` (guest memory), compared in place. */
  removeFrom(mem: Uint8Array, ptr: number, len: number): void {
    this.modified = true;
    this.prepareEdit();
    if (this.text !== null) {
      this.text.removeAt(mem, ptr, len);
      return;
    }
    const names = this.names;
    for (let i = names.length - 1; i >= 0; i--) {
      if (sameBytes(names[i]!, mem, ptr, len)) {
        names.splice(i, 1);
        this.values.splice(i, 1);
      }
    }
  }

  clear(): void {
    this.modified = true;
    this.pending = null;
    this.text = null;
    this.nameList.length = 0;
    this.valueList.length = 0;
  }

  /** Entries as byte pairs (copies of the arrays, sharing the byte contents). */
  pairs(): HeaderPair[] {
    return this.names.map((name, i) => [name, this.values[i]!]);
  }

  /** Entries decoded as UTF-8 strings, for tests and logs. */
  toStrings(): Array<[string, string]> {
    return this.names.map((name, i) => [utf8String(name), utf8String(this.values[i]!)]);
  }

  /** First value for `name` decoded as UTF-8, or undefined. */
  getString(name: string): string | undefined {
    const value = this.get(encodeString(name));
    return value === undefined ? undefined : utf8String(value);
  }

  /** Size of the spec serialization of this map, in bytes. */
  serializedSize(): number {
    if (this.text !== null) return this.text.serializedSize();
    return serializedListsSize(this.names, this.values);
  }

  /** Writes the spec serialization into `out` at `offset` (which must have `serializedSize()` bytes). */
  serializeInto(out: Uint8Array, offset: number): void {
    if (this.text !== null) this.text.serializeInto(out, offset);
    else serializeLists(this.names, this.values, out, offset);
  }

  /** The spec serialization as a fresh byte array. */
  serialize(): Uint8Array {
    const out = new Uint8Array(this.serializedSize());
    this.serializeInto(out, 0);
    return out;
  }
}
