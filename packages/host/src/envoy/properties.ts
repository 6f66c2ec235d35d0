/**
 * Envoy attribute values and their wire encodings, as `proxy_get_property` returns them
 * (envoy `source/extensions/common/wasm/context.cc` `serializeValue`): strings and bytes raw, integers as
 * 8-byte little-endian, doubles as 8-byte IEEE, booleans as one byte, timestamps and durations as int64
 * nanoseconds, maps as the spec's pair serialization, lists as pairs with empty values.
 */
import { toBytes, utf8String } from "../bytes.ts";
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

function int64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return out;
}

/** Encodes an attribute value the way Envoy serializes it for `proxy_get_property`. */
export function encodeProperty(value: PropertyValue): Uint8Array {
  if (typeof value === "string") return toBytes(value);
  if (value instanceof Uint8Array) return value;
  if (typeof value === "bigint") return int64(value);
  if (typeof value === "number") {
    if (Number.isInteger(value)) return int64(BigInt(value));
    return encodeProperty(new Double(value));
  }
  if (typeof value === "boolean") return new Uint8Array([value ? 1 : 0]);
  if (value instanceof Date) return int64(BigInt(value.getTime()) * 1_000_000n);
  if (value instanceof Duration) return int64(value.nanoseconds);
  if (value instanceof Double) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, value.value, true);
    return out;
  }
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

/** Splits a `\0`-joined property path into segments (a trailing `\0` is ignored). */
export function splitPath(path: Uint8Array): string[] {
  const text = utf8String(path);
  const parts = text.split("\0");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

function descend(value: PropertyValue, rest: readonly string[]): PropertyValue | undefined {
  let v: PropertyValue | undefined = value;
  for (const seg of rest) {
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
  segments: readonly string[],
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
  // The candidate keys, "a", "a.b", "a.b.c", ..., built in one pass.
  const keys: string[] = [];
  let key = "";
  for (let i = 0; i < k; i++) {
    key = i === 0 ? segments[0]! : `${key}.${segments[i]!}`;
    keys.push(key);
  }
  for (; k >= 1; k--) {
    // One descriptor read: `hasOwn` then a read would compute an on-demand value twice.
    const found = Object.getOwnPropertyDescriptor(bag, keys[k - 1]!);
    if (found?.enumerable) {
      const value = found.get ? found.get.call(bag) : found.value;
      return descend(value as PropertyValue, segments.slice(k));
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
