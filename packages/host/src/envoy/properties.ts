/**
 * Envoy attribute values and their wire encodings, as `proxy_get_property` returns them
 * (envoy `source/extensions/common/wasm/context.cc` `serializeValue`): strings and bytes raw, integers as
 * 8-byte little-endian, doubles as 8-byte IEEE, booleans as one byte, timestamps and durations as int64
 * nanoseconds, maps as the spec's pair serialization, lists as pairs with empty values.
 */
import { latin1String, toBytes, utf8String } from "../bytes.ts";
import { BytesKeyedCache } from "../bytes-keyed-cache.ts";
import { HeaderMap } from "../header-map.ts";

/** A duration attribute (e.g. `request.duration`), encoded as int64 nanoseconds. */
export class Duration {
  constructor(readonly nanoseconds: bigint) {}
}

/** A double attribute (numbers are integers by default, as most Envoy attributes are). */
export class Double {
  constructor(readonly value: number) {}
}

/** A value an embedder or test gives for an attribute. */
export type PropertyValue =
  | string
  | Uint8Array
  | number
  | bigint
  | boolean
  | Date
  | Duration
  | Double
  | readonly PropertyValue[]
  | PropertyRecord;
export interface PropertyRecord {
  readonly [key: string]: PropertyValue;
}

/** Attributes keyed by dotted path (`"source.address"`, `"node.metadata"`); values may be nested records. */
export type Properties = Readonly<Record<string, PropertyValue>>;

// One shared 8-byte scratch for the int64 / double encodings: a DataView per value (and a BigInt per
// integer) was a measurable part of every `request.time` / `request.duration` read.
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);
const TWO_32 = 2 ** 32;

function int64(value: bigint): Uint8Array {
  scratch.setBigUint64(0, BigInt.asUintN(64, value), true);
  return scratchBytes.slice();
}

/** A safe integer as int64 little-endian (two's complement), without going through a BigInt. */
function int64FromSafeInteger(value: number): Uint8Array {
  const high = Math.floor(value / TWO_32);
  scratch.setUint32(0, value - high * TWO_32, true);
  scratch.setUint32(4, high >>> 0, true);
  return scratchBytes.slice();
}

function double(value: number): Uint8Array {
  scratch.setFloat64(0, value, true);
  return scratchBytes.slice();
}

/** Encodes an attribute value the way Envoy serializes it for `proxy_get_property`. */
export function encodeProperty(value: PropertyValue): Uint8Array {
  if (typeof value === "string") return toBytes(value);
  if (value instanceof Uint8Array) return value;
  if (typeof value === "bigint") return int64(value);
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return int64FromSafeInteger(value);
    if (Number.isInteger(value)) return int64(BigInt(value));
    return double(value);
  }
  if (typeof value === "boolean") return new Uint8Array([value ? 1 : 0]);
  if (value instanceof Date) return int64(BigInt(value.getTime()) * 1_000_000n);
  if (value instanceof Duration) return int64(value.nanoseconds);
  if (value instanceof Double) return double(value.value);
  const map = new HeaderMap();
  if (Array.isArray(value)) {
    for (const item of value) {
      map.names.push(encodeProperty(item));
      map.values.push(new Uint8Array(0));
    }
  } else {
    for (const [k, v] of Object.entries(value as PropertyRecord)) {
      map.names.push(toBytes(k));
      map.values.push(encodeProperty(v));
    }
  }
  return map.serialize();
}

/**
 * A property path's segments, with what every lookup of it derives from them: the dotted prefixes
 * ("a", "a.b", ...) tried against property bags, and the filter-state key (`wasm.a.b`). Paths come from
 * a plugin's constant strings, so the same few arrive on every request: `splitPath` hands out one
 * shared, frozen array per path and these are computed once for it.
 */
export interface PropertyPath extends ReadonlyArray<string> {
  readonly prefixes?: readonly string[];
  readonly stateKey?: string;
}

const PATH_CACHE_SIZE = 1024;
/** Longer paths are not cached (and a hostile one of thousands of segments is not turned into prefixes). */
const CACHED_PATH_BYTES = 256;
/**
 * Paths seen so far, by their bytes. Bounded: past the cap (a plugin that builds paths from request data)
 * a path is split afresh on each call.
 */
const pathCache = new BytesKeyedCache<PropertyPath>(PATH_CACHE_SIZE, CACHED_PATH_BYTES);

/** The path's text: latin1 for ASCII (no TextDecoder call, the common case), else UTF-8. */
function pathText(path: Uint8Array): string {
  for (let i = 0; i < path.length; i++) if (path[i]! > 0x7f) return utf8String(path);
  return latin1String(path);
}

function segmentsOf(text: string): string[] {
  const parts = text.split("\0");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/**
 * Splits a `\0`-joined property path into segments (a trailing `\0` is ignored). The result may be
 * shared with other calls for the same path: callers must not change it.
 */
export function splitPath(path: Uint8Array): PropertyPath {
  return pathCache.get(path, splitUncached, isSharedPath);
}

/** `splitPath` of the path at `memory[ptr, ptr + len)` (in range), read in place. */
export function splitPathAt(memory: Uint8Array, ptr: number, len: number): PropertyPath {
  return pathCache.getAt(memory, ptr, len, splitUncached, isSharedPath);
}

/** A path's segments; a path short enough to cache is frozen with its prefixes and filter-state key. */
function splitUncached(path: Uint8Array): PropertyPath {
  const segments = segmentsOf(pathText(path));
  if (path.length > CACHED_PATH_BYTES || segments.length > SHORT_PATH) return segments;
  return Object.freeze(
    Object.assign(segments, {
      prefixes: prefixKeys(segments, segments.length),
      stateKey: `wasm.${segments.join(".")}`,
    }),
  );
}

function isSharedPath(path: PropertyPath): boolean {
  return path.stateKey !== undefined;
}

/** The filter-state key of a path (`wasm.` + dotted path, Envoy's CelState prefix). */
export function stateKeyOf(segments: PropertyPath): string {
  return segments.stateKey ?? `wasm.${segments.join(".")}`;
}

/** "a", "a.b", "a.b.c", ... for the first `k` segments, built in one pass. */
function prefixKeys(segments: readonly string[], k: number): string[] {
  const keys: string[] = [];
  let key = "";
  for (let i = 0; i < k; i++) {
    key = i === 0 ? segments[0]! : `${key}.${segments[i]!}`;
    keys.push(key);
  }
  return keys;
}

/** The value at `segments[from..]` inside `value`. */
function descend(value: PropertyValue, segments: readonly string[], from: number): PropertyValue | undefined {
  let v: PropertyValue | undefined = value;
  for (let s = from; s < segments.length; s++) {
    const seg = segments[s]!;
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) {
      const i = Number(seg);
      v = Number.isInteger(i) ? (v as PropertyValue[])[i] : undefined;
    } else if (
      typeof v === "object" &&
      !(v instanceof Uint8Array) &&
      !(v instanceof Date) &&
      !(v instanceof Duration) &&
      !(v instanceof Double)
    ) {
      v = Object.hasOwn(v, seg) ? (v as PropertyRecord)[seg] : undefined;
    } else {
      return undefined;
    }
  }
  return v;
}

/**
 * Finds `segments` in a property bag: the longest dotted prefix present as a key, then the remaining
 * segments inside its (record or list) value.
 */
export function lookupProperty(
  bag: Properties | undefined,
  segments: PropertyPath,
): PropertyValue | undefined {
  if (!bag) return undefined;
  // Longest prefix first. A path of up to SHORT_PATH segments tries every prefix (a miss is one cheap
  // descriptor read). A longer one, such as a hostile path of thousands of \0-separated segments, would cost
  // quadratic time that way, so it is cut to the bag's deepest key first; the keys come from
  // Reflect.ownKeys, which asks a bag that computes values on demand (a Proxy) for names only.
  let k = segments.length;
  if (k > SHORT_PATH) {
    let deepest = 0;
    for (const key of Reflect.ownKeys(bag)) {
      if (typeof key === "string") deepest = Math.max(deepest, segmentCount(key));
    }
    k = Math.min(k, deepest);
  }
  // The candidate keys, "a", "a.b", "a.b.c", ... (computed once for a cached path).
  const keys = segments.prefixes ?? prefixKeys(segments, k);
  for (; k >= 1; k--) {
    // One descriptor read: `hasOwn` then a read would compute an on-demand value twice.
    const found = Object.getOwnPropertyDescriptor(bag, keys[k - 1]!);
    if (found?.enumerable) {
      const value = found.get ? found.get.call(bag) : found.value;
      return descend(value as PropertyValue, segments, k);
    }
  }
  return undefined;
}

/** Paths up to this many segments are looked up without listing the bag's keys. */
const SHORT_PATH = 16;

/** Dot-separated segments in a key ("a.b" has 2). */
function segmentCount(key: string): number {
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 0x2e) n++;
  return n;
}
