/**
 * The spec's serialization of header pairs (proxy-wasm-cpp-host `pairs_util.h`): a u32 count, each pair's
 * name and value lengths (u32 each), then each name and value followed by a 0 byte; all little-endian.
 * And its limits (cpp-host `limits.h`).
 */
import { toBytes } from "./bytes.ts";
import type { HeaderInput, HeaderPair } from "./types.ts";

/** A name or value as a byte array, or as latin1 text (one char per byte). */
export type EntryBytes = Uint8Array | string;

/** Size of the spec serialization of parallel name and value lists. */
export function serializedListsSize(names: readonly EntryBytes[], values: readonly EntryBytes[]): number {
  let size = 4;
  for (let i = 0; i < names.length; i++) size += 8 + names[i]!.length + values[i]!.length + 2;
  return size;
}

function putBytes(out: Uint8Array, at: number, bytes: EntryBytes): number {
  if (typeof bytes === "string") for (let j = 0; j < bytes.length; j++) out[at + j] = bytes.charCodeAt(j);
  else out.set(bytes, at);
  return at + bytes.length;
}

/** Writes `value` as a little-endian u32 at `out[at, at+4)`: by hand, as no DataView is made for it. */
function putU32le(out: Uint8Array, at: number, value: number): void {
  out[at] = value;
  out[at + 1] = value >>> 8;
  out[at + 2] = value >>> 16;
  out[at + 3] = value >>> 24;
}

/**
 * Writes pair `i`'s two lengths (in the table after the count) and its name and value, each followed by a
 * 0 byte, at `data`; returns where the next pair's data goes.
 */
function putPair(
  out: Uint8Array,
  offset: number,
  i: number,
  data: number,
  name: EntryBytes,
  value: EntryBytes,
): number {
  const lens = offset + 4 + i * 8;
  putU32le(out, lens, name.length);
  putU32le(out, lens + 4, value.length);
  let at = putBytes(out, data, name);
  out[at++] = 0;
  at = putBytes(out, at, value);
  out[at++] = 0;
  return at;
}

/**
 * Writes the spec serialization of parallel name and value lists into `out` at `offset`: the count, each
 * pair's two lengths, then each name and value followed by a 0 byte.
 */
export function serializeLists(
  names: readonly EntryBytes[],
  values: readonly EntryBytes[],
  out: Uint8Array,
  offset: number,
): void {
  const count = names.length;
  putU32le(out, offset, count);
  let data = offset + 4 + count * 8;
  for (let i = 0; i < count; i++) data = putPair(out, offset, i, data, names[i]!, values[i]!);
}

/**
 * `serializeLists` of latin1 text pairs (one char per byte), read from the pairs themselves: no name and
 * value lists are made for it.
 */
export function serializePairList(
  pairs: ReadonlyArray<readonly [string, string]>,
  out: Uint8Array,
  offset: number,
): void {
  const count = pairs.length;
  putU32le(out, offset, count);
  let data = offset + 4 + count * 8;
  for (let i = 0; i < count; i++) {
    const pair = pairs[i]!;
    data = putPair(out, offset, i, data, pair[0], pair[1]);
  }
}

/** Limits from proxy-wasm-cpp-host `limits.h`: serialized pairs are at most 1 MiB and 1024 entries. */
export const MAX_PAIRS_SIZE = 1 << 20;
export const MAX_PAIRS_COUNT = 1024;

/**
 * The number of pairs in a spec serialization, or -1 when the bytes are malformed (truncated, counts beyond
 * the data, over the limits). An empty input or a single 0x00 byte is the empty map. Nothing is copied.
 */
export function countPairs(bytes: Uint8Array): number {
  const total = bytes.length;
  if (total === 0 || (total === 1 && bytes[0] === 0)) return 0;
  if (total < 4 || total > MAX_PAIRS_SIZE) return -1;
  const count = u32le(bytes, 0);
  if (count > MAX_PAIRS_COUNT || 4 + count * 8 > total) return -1;
  let data = 4 + count * 8;
  for (let i = 0; i < count; i++) {
    // Like cpp-host, the terminator bytes are skipped, not checked: the lengths are authoritative.
    data += u32le(bytes, 4 + i * 8) + 1 + u32le(bytes, 8 + i * 8) + 1;
    if (data > total) return -1;
  }
  return count;
}

/**
 * The little-endian u32 at `bytes[at, at+4)` (in range). Read by hand: a DataView made per callout's
 * headers cost more than the few lengths read through it.
 */
function u32le(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * Calls `visit(name start, name length, value start, value length)` for each of the `count` pairs of a
 * serialization `countPairs` accepted, in order, with offsets into `bytes`.
 */
export function visitPairs(
  bytes: Uint8Array,
  count: number,
  visit: (nameStart: number, nameLength: number, valueStart: number, valueLength: number) => void,
): void {
  let data = 4 + count * 8;
  for (let i = 0; i < count; i++) {
    const nameLen = u32le(bytes, 4 + i * 8);
    const valueLen = u32le(bytes, 8 + i * 8);
    visit(data, nameLen, data + nameLen + 1, valueLen);
    data += nameLen + 1 + valueLen + 1;
  }
}

/**
 * Parses the spec serialization. Returns null when the bytes are malformed (see `countPairs`). Names and
 * values are copied out of `bytes` (which usually is a view of guest memory).
 */
export function parsePairs(bytes: Uint8Array): HeaderPair[] | null {
  const count = countPairs(bytes);
  if (count < 0) return null;
  const pairs: HeaderPair[] = new Array(count);
  let i = 0;
  visitPairs(bytes, count, (nameStart, nameLength, valueStart, valueLength) => {
    pairs[i++] = [
      bytes.slice(nameStart, nameStart + nameLength),
      bytes.slice(valueStart, valueStart + valueLength),
    ];
  });
  return pairs;
}

/** Serializes pairs in the spec format, names as given (used for callouts and tests). */
export function serializePairs(pairs: HeaderInput): Uint8Array {
  const names: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  for (const [name, value] of pairs) {
    names.push(toBytes(name));
    values.push(toBytes(value));
  }
  const out = new Uint8Array(serializedListsSize(names, values));
  serializeLists(names, values, out, 0);
  return out;
}
