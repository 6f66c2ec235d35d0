// Header maps: ordered lists of byte pairs, their wire encoding, and live access to the host's maps.

import {
  proxy_add_header_map_value,
  proxy_get_header_map_pairs,
  proxy_get_header_map_size,
  proxy_get_header_map_value,
  proxy_remove_header_map_value,
  proxy_replace_header_map_value,
  proxy_set_header_map_pairs,
} from "./abi/imports";
import { MapType, Status } from "./abi/types";
import { textAt, toBytes, toText } from "./bytes";
import { RETURN_DATA, RETURN_SIZE, clearReturnSlots, setLastStatus, takeReturnedBytes } from "./memory";
import { utf8Pointer, utf8Size } from "./scratch";

/** One header (or gRPC metadata entry, or map property entry): name and value as bytes. */
export class HeaderPair {
  constructor(
    public name: ArrayBuffer,
    public value: ArrayBuffer,
  ) {}

  /** The name as UTF-8 text. */
  get nameText(): string {
    return toText(this.name);
  }

  /** The value as UTF-8 text. */
  get valueText(): string {
    return toText(this.value);
  }
}

/** An ordered list of header pairs; duplicates allowed, order kept (as on the wire). */
export class HeaderList {
  pairs: Array<HeaderPair> = new Array<HeaderPair>();

  /** Number of pairs. */
  get length(): i32 {
    return this.pairs.length;
  }

  /** Appends a pair given as text. Returns `this` for chaining. */
  add(name: string, value: string): HeaderList {
    this.pairs.push(new HeaderPair(toBytes(name), toBytes(value)));
    return this;
  }

  /** Appends a pair given as bytes. */
  addBytes(name: ArrayBuffer, value: ArrayBuffer): HeaderList {
    this.pairs.push(new HeaderPair(name, value));
    return this;
  }

  /** First value of `name` (exact, case-sensitive byte match), or null. */
  get(name: string): string | null {
    const key = toBytes(name);
    for (let i = 0; i < this.pairs.length; i++) {
      const pair = unchecked(this.pairs[i]);
      if (sameBytes(pair.name, key)) return pair.valueText;
    }
    return null;
  }

  /** Removes every pair named `name`; returns how many were removed. */
  remove(name: string): i32 {
    const key = toBytes(name);
    const kept = new Array<HeaderPair>();
    for (let i = 0; i < this.pairs.length; i++) {
      const pair = unchecked(this.pairs[i]);
      if (!sameBytes(pair.name, key)) kept.push(pair);
    }
    const removed = this.pairs.length - kept.length;
    this.pairs = kept;
    return removed;
  }

  /** Replaces every value of `name` with one pair (appended if absent). */
  set(name: string, value: string): HeaderList {
    this.remove(name);
    return this.add(name, value);
  }

  /** Encodes the list in the ABI's map serialization. */
  serialize(): ArrayBuffer {
    return serializePairs(this.pairs);
  }

  /** Decodes the ABI map serialization; null when `bytes` is malformed (counts or lengths out of range). */
  static deserialize(bytes: ArrayBuffer): HeaderList | null {
    return deserializePairs(bytes);
  }
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  return (
    a.byteLength == b.byteLength &&
    memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>a.byteLength) == 0
  );
}

/** ABI serialization: u32 count, (u32 name length, u32 value length) per pair, then name\0value\0 per pair. */
export function serializePairs(pairs: Array<HeaderPair>): ArrayBuffer {
  const count = pairs.length;
  let size: usize = 4 + 8 * <usize>count;
  for (let i = 0; i < count; i++) {
    const pair = unchecked(pairs[i]);
    size += <usize>pair.name.byteLength + <usize>pair.value.byteLength + 2;
  }
  const out = new ArrayBuffer(<i32>size);
  const base = changetype<usize>(out);
  store<u32>(base, count);
  let lengths = base + 4;
  let data = base + 4 + 8 * <usize>count;
  for (let i = 0; i < count; i++) {
    const pair = unchecked(pairs[i]);
    const nameSize = <usize>pair.name.byteLength;
    const valueSize = <usize>pair.value.byteLength;
    store<u32>(lengths, <u32>nameSize);
    store<u32>(lengths + 4, <u32>valueSize);
    lengths += 8;
    memory.copy(data, changetype<usize>(pair.name), nameSize);
    store<u8>(data + nameSize, 0);
    data += nameSize + 1;
    memory.copy(data, changetype<usize>(pair.value), valueSize);
    store<u8>(data + valueSize, 0);
    data += valueSize + 1;
  }
  return out;
}

/** Parses the ABI serialization defensively: every count and length is checked against the buffer. */
export function deserializePairs(bytes: ArrayBuffer): HeaderList | null {
  const list = new HeaderList();
  const size = <u64>bytes.byteLength;
  if (size <= 1) return list; // empty map: size 0 or a single 0x00 byte
  if (size < 4) return null;
  const base = changetype<usize>(bytes);
  const count = <u64>load<u32>(base);
  if (4 + count * 8 > size) return null;
  let data = 4 + count * 8;
  for (let i: u64 = 0; i < count; i++) {
    const nameSize = <u64>load<u32>(base + <usize>(4 + i * 8));
    const valueSize = <u64>load<u32>(base + <usize>(8 + i * 8));
    if (data + nameSize + valueSize + 2 > size) return null;
    const name = bytes.slice(<i32>data, <i32>(data + nameSize));
    data += nameSize + 1;
    const value = bytes.slice(<i32>data, <i32>(data + valueSize));
    data += valueSize + 1;
    list.pairs.push(new HeaderPair(name, value));
  }
  return list;
}

/**
 * Live view of one of the host's header maps (request/response headers or trailers, callout
 * response headers, gRPC metadata). Reads return null when absent; writes return a `Status`.
 */
export class HeaderMap {
  constructor(public readonly mapType: MapType) {}

  /** Value of `name` as text, or null when absent (or the map is not available in this phase). */
  get(name: string): string | null {
    const bytes = this.getBytes(name);
    return bytes === null ? null : toText(bytes);
  }

  /** Value of `name` as bytes, or null when absent. `lastStatus()` tells why. */
  getBytes(name: string): ArrayBuffer | null {
    const key = utf8Pointer(name);
    clearReturnSlots();
    const s = setLastStatus(proxy_get_header_map_value(this.mapType, key, utf8Size(), RETURN_DATA, RETURN_SIZE));
    const value = takeReturnedBytes();
    return s == Status.Ok ? value : null;
  }

  /** True when `name` is present. */
  has(name: string): bool {
    return this.getBytes(name) !== null;
  }

  /** Size in bytes of the map in the ABI serialization, or -1 when the map is unavailable. */
  serializedSize(): i64 {
    store<u32>(RETURN_SIZE, 0);
    const s = setLastStatus(proxy_get_header_map_size(this.mapType, RETURN_SIZE));
    return s == Status.Ok ? <i64>load<u32>(RETURN_SIZE) : -1;
  }

  /** Every pair, in order; an empty list when the map is unavailable (`lastStatus()` tells why). */
  getAll(): HeaderList {
    clearReturnSlots();
    const s = setLastStatus(proxy_get_header_map_pairs(this.mapType, RETURN_DATA, RETURN_SIZE));
    const bytes = takeReturnedBytes();
    if (s != Status.Ok || bytes === null) return new HeaderList();
    const list = deserializePairs(bytes);
    if (list === null) {
      setLastStatus(Status.ParseFailure);
      return new HeaderList();
    }
    return list;
  }

  /**
   * Every entry as text, `[name0, value0, name1, value1, ...]` in map order, decoded straight from the
   * host's serialization: no byte copy and no `HeaderPair` per entry, as `getAll()` makes. For plugins
   * that read a whole map as strings. Empty when the map is unavailable or malformed (`lastStatus()`
   * tells which). To copy a map somewhere without a string per entry, use `getAllSerialized()`.
   */
  getAllText(): Array<string> {
    const map = this.getAllSerialized();
    const count = map.length;
    // Sized once: pushes grew it twice per request.
    const out = new Array<string>(count * 2);
    for (let i = 0; i < count; i++) {
      unchecked((out[i * 2] = textAt(map.namePtr(i), <usize>map.nameSize(i))));
      unchecked((out[i * 2 + 1] = textAt(map.valuePtr(i), <usize>map.valueSize(i))));
    }
    return out;
  }

  /**
   * Every entry, read in place from the host's serialization (one buffer, no string or copy per entry):
   * for plugins that copy a whole map elsewhere as bytes, e.g. an observer writing it as JSON with
   * `JsonWriter.keyUtf8At` / `stringUtf8At`. Empty when the map is unavailable or malformed
   * (`lastStatus()` tells which).
   */
  getAllSerialized(): SerializedHeaders {
    clearReturnSlots();
    const s = setLastStatus(proxy_get_header_map_pairs(this.mapType, RETURN_DATA, RETURN_SIZE));
    const bytes = takeReturnedBytes();
    if (s != Status.Ok || bytes === null) return SerializedHeaders.EMPTY;
    const map = SerializedHeaders.read(bytes);
    if (map === null) {
      setLastStatus(Status.ParseFailure);
      return SerializedHeaders.EMPTY;
    }
    return map;
  }

  /** Replaces the whole map with `list`. */
  setAll(list: HeaderList): Status {
    const bytes = list.serialize();
    return setLastStatus(proxy_set_header_map_pairs(this.mapType, changetype<usize>(bytes), bytes.byteLength));
  }

  /** Sets `name` to `value`, replacing every existing value. */
  set(name: string, value: string): Status {
    return this.setBytes(name, toBytes(value));
  }

  /** Sets `name` to a byte value, replacing every existing value. */
  setBytes(name: string, value: ArrayBuffer): Status {
    const key = utf8Pointer(name);
    return setLastStatus(
      proxy_replace_header_map_value(this.mapType, key, utf8Size(), changetype<usize>(value), value.byteLength),
    );
  }

  /** Adds a value for `name`, keeping existing ones. */
  add(name: string, value: string): Status {
    return this.addBytes(name, toBytes(value));
  }

  /** Adds a byte value for `name`, keeping existing ones. */
  addBytes(name: string, value: ArrayBuffer): Status {
    const key = utf8Pointer(name);
    return setLastStatus(
      proxy_add_header_map_value(this.mapType, key, utf8Size(), changetype<usize>(value), value.byteLength),
    );
  }

  /** Removes every value of `name`. */
  remove(name: string): Status {
    const key = utf8Pointer(name);
    return setLastStatus(proxy_remove_header_map_value(this.mapType, key, utf8Size()));
  }
}

/** Request headers of the current HTTP stream (valid from `onRequestHeaders` on). */
@lazy export const requestHeaders = new HeaderMap(MapType.HttpRequestHeaders);
/** Request trailers of the current HTTP stream (valid in `onRequestTrailers`). */
@lazy export const requestTrailers = new HeaderMap(MapType.HttpRequestTrailers);
/** Response headers of the current HTTP stream (valid from `onResponseHeaders` on). */
@lazy export const responseHeaders = new HeaderMap(MapType.HttpResponseHeaders);
/** Response trailers of the current HTTP stream (valid in `onResponseTrailers`). */
@lazy export const responseTrailers = new HeaderMap(MapType.HttpResponseTrailers);


let noHeaders: SerializedHeaders | null = null;

/**
 * A header map in the ABI's serialization (a count, each entry's name and value sizes, then each name and
 * value followed by a NUL), checked once and then read in place: entry `i`'s name and value are byte
 * ranges of `bytes`. Pointers stay valid while this object is referenced.
 */
export class SerializedHeaders {
  /** No entries (an unavailable or empty map); made on first use. */
  static get EMPTY(): SerializedHeaders {
    // Not a static field: AssemblyScript runs a field's initializer at start-up in every plugin that
    // imports this file, used or not (the SDK bench's module grew by it).
    let empty = noHeaders;
    if (empty === null) {
      empty = new SerializedHeaders(new ArrayBuffer(0), new StaticArray<i32>(0));
      noHeaders = empty;
    }
    return empty;
  }

  private constructor(
    readonly bytes: ArrayBuffer,
    /** Per entry: name offset, name size, value offset, value size. */
    private readonly spans: StaticArray<i32>,
  ) {}

  /** `bytes` checked as the ABI's map serialization; null when counts or sizes run past its end. */
  static read(bytes: ArrayBuffer): SerializedHeaders | null {
    const size = <u64>bytes.byteLength;
    if (size <= 1) return SerializedHeaders.EMPTY; // an empty map: size 0 or a single 0x00 byte
    if (size < 4) return null;
    const base = changetype<usize>(bytes);
    const count = <u64>load<u32>(base);
    if (4 + count * 8 > size) return null;
    const spans = new StaticArray<i32>(<i32>count * 4);
    let data = 4 + count * 8;
    for (let i: u64 = 0; i < count; i++) {
      const nameSize = <u64>load<u32>(base + <usize>(4 + i * 8));
      const valueSize = <u64>load<u32>(base + <usize>(8 + i * 8));
      if (data + nameSize + valueSize + 2 > size) return null;
      const at = <i32>i * 4;
      unchecked((spans[at] = <i32>data));
      unchecked((spans[at + 1] = <i32>nameSize));
      data += nameSize + 1;
      unchecked((spans[at + 2] = <i32>data));
      unchecked((spans[at + 3] = <i32>valueSize));
      data += valueSize + 1;
    }
    return new SerializedHeaders(bytes, spans);
  }

  /** Number of entries. */
  get length(): i32 {
    return this.spans.length >> 2;
  }
  /** Where entry `i`'s name starts (`i` in 0..length-1, unchecked). */
  namePtr(i: i32): usize {
    return changetype<usize>(this.bytes) + <usize>unchecked(this.spans[i * 4]);
  }
  nameSize(i: i32): i32 {
    return unchecked(this.spans[i * 4 + 1]);
  }
  valuePtr(i: i32): usize {
    return changetype<usize>(this.bytes) + <usize>unchecked(this.spans[i * 4 + 2]);
  }
  valueSize(i: i32): i32 {
    return unchecked(this.spans[i * 4 + 3]);
  }
  /** Entry `i`'s name decoded (UTF-8). */
  nameText(i: i32): string {
    return textAt(this.namePtr(i), <usize>this.nameSize(i));
  }
  /** Entry `i`'s value decoded (UTF-8). */
  valueText(i: i32): string {
    return textAt(this.valuePtr(i), <usize>this.valueSize(i));
  }
}
