/**
 * What a host derives from short byte strings a plugin passes again and again (property paths, foreign
 * function names), kept by the bytes themselves: a guest's constant strings arrive on every request, and
 * decoding them to a string first (TextDecoder / latin1) was most of what such a lookup cost.
 */

/** One cached value and a copy of the bytes it was made from (a hash match is confirmed against them). */
interface Entry<T> {
  readonly bytes: Uint8Array;
  readonly value: T;
}

/**
 * Values by their key bytes: buckets by FNV-1a hash, each a short list. Bounded: once `capacity` entries
 * are held, a new key's value is made afresh on each call (`make`). Entries are never removed, so the
 * table holds no garbage.
 */
export class BytesKeyedCache<T> {
  private readonly buckets = new Map<number, Entry<T>[]>();
  private count = 0;

  constructor(
    private readonly capacity: number,
    /** Keys longer than this are never cached (nor hashed). */
    private readonly maxKeyBytes: number,
  ) {}

  /**
   * The value for `key` (which may be a view of guest memory; the cache keeps a copy): cached, else
   * `make(key)`, cached when `keep(value)` says so (default: always).
   */
  get(key: Uint8Array, make: (key: Uint8Array) => T, keep?: (value: T) => boolean): T {
    return this.getAt(key, 0, key.length, make, keep);
  }

  /**
   * `get` of the key `source[start, start + length)` (in range), e.g. straight from guest memory: no view
   * of the key is made unless `make` needs one.
   */
  getAt(
    source: Uint8Array,
    start: number,
    length: number,
    make: (key: Uint8Array) => T,
    keep?: (value: T) => boolean,
  ): T {
    if (length > this.maxKeyBytes) return make(source.subarray(start, start + length));
    const hash = fnv1a(source, start, length);
    const bucket = this.buckets.get(hash);
    if (bucket !== undefined) {
      for (const entry of bucket) if (sameBytes(entry.bytes, source, start, length)) return entry.value;
    }
    const key = source.subarray(start, start + length);
    const value = make(key);
    if (this.count >= this.capacity || (keep !== undefined && !keep(value))) return value;
    const entry: Entry<T> = { bytes: key.slice(), value };
    if (bucket === undefined) this.buckets.set(hash, [entry]);
    else bucket.push(entry);
    this.count++;
    return value;
  }
}

/** 32-bit FNV-1a of `bytes[start, start + length)`. */
function fnv1a(bytes: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(stored: Uint8Array, source: Uint8Array, start: number, length: number): boolean {
  if (stored.length !== length) return false;
  for (let i = 0; i < length; i++) if (stored[i] !== source[start + i]) return false;
  return true;
}
