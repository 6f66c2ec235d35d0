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
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(offset, count, true);
  let lens = offset + 4;
  let data = offset + 4 + count * 8;
  for (let i = 0; i < count; i++) {
    dv.setUint32(lens, names[i]!.length, true);
    dv.setUint32(lens + 4, values[i]!.length, true);
    lens += 8;
    data = putBytes(out, data, names[i]!);
    out[data++] = 0;
    data = putBytes(out, data, values[i]!);
    out[data++] = 0;
  }
}

/** Limits from proxy-wasm-cpp-host `limits.h`: serialized pairs are at most 1 MiB and 1024 entries. */
export const MAX_PAIRS_SIZE = 1 << 20;
export const MAX_PAIRS_COUNT = 1024;

/**
 * Parses the spec serialization. Returns null when the bytes are malformed (truncated, counts beyond the
 * data, over the limits). An empty input or a single 0x00 byte is the empty map.
 * Values are copied out of `bytes` (which usually is a view of guest memory).
 */
export function parsePairs(bytes: Uint8Array): HeaderPair[] | null {
  const total = bytes.length;
  if (total === 0 || (total === 1 && bytes[0] === 0)) return [];
  if (total < 4 || total > MAX_PAIRS_SIZE) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, total);
  const count = dv.getUint32(0, true);
  if (count > MAX_PAIRS_COUNT || 4 + count * 8 > total) return null;
  const pairs: HeaderPair[] = new Array(count);
  let data = 4 + count * 8;
  for (let i = 0; i < count; i++) {
    const nameLen = dv.getUint32(4 + i * 8, true);
    const valueLen = dv.getUint32(8 + i * 8, true);
    if (data + nameLen + 1 + valueLen + 1 > total) return null;
    // Like cpp-host, the terminator byte is skipped, not checked: the lengths are authoritative.
    const name = bytes.slice(data, data + nameLen);
    data += nameLen + 1;
    const value = bytes.slice(data, data + valueLen);
    data += valueLen + 1;
    pairs[i] = [name, value];
  }
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
