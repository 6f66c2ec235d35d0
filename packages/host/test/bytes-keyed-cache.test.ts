import assert from "node:assert/strict";
import { test } from "node:test";
import { BytesKeyedCache } from "../src/bytes-keyed-cache.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

test("BytesKeyedCache: one make per key; keys copied; bounded; long keys and refused values not kept", () => {
  let made = 0;
  const make = (key: Uint8Array) => {
    made++;
    return new TextDecoder().decode(key);
  };
  const cache = new BytesKeyedCache<string>(3, 8);
  // A reused buffer, as guest scratch memory is: the cache must keep its own copy of the key.
  const scratch = bytes("source");
  assert.equal(cache.get(scratch, make), "source");
  scratch.set(bytes("target"));
  assert.equal(cache.get(scratch, make), "target");
  assert.equal(cache.get(bytes("source"), make), "source");
  assert.equal(made, 2);
  // Longer than 8 bytes: made on every call.
  cache.get(bytes("a-long-key"), make);
  cache.get(bytes("a-long-key"), make);
  assert.equal(made, 4);
  // keep() refuses: not cached.
  cache.get(bytes("nope"), make, () => false);
  cache.get(bytes("nope"), make, () => false);
  assert.equal(made, 6);
  // Third entry fills the cache; a fourth key is made afresh each time, the cached ones are not.
  cache.get(bytes("third"), make);
  cache.get(bytes("fourth"), make);
  cache.get(bytes("fourth"), make);
  assert.equal(made, 9);
  assert.equal(cache.get(bytes("third"), make), "third");
  assert.equal(made, 9);
});

test("BytesKeyedCache.getAt: a key read in place inside a larger buffer matches the same bytes given alone", () => {
  const cache = new BytesKeyedCache<string>(8, 16);
  const make = (key: Uint8Array) => new TextDecoder().decode(key);
  const memory = bytes("xxsource\0addressyy");
  assert.equal(cache.getAt(memory, 2, 14, make), "source\0address");
  let made = 0;
  assert.equal(
    cache.get(bytes("source\0address"), (key) => {
      made++;
      return make(key);
    }),
    "source\0address",
  );
  assert.equal(made, 0);
  // Same length, other bytes at another offset: its own entry.
  assert.equal(cache.getAt(memory, 4, 14, make), "urce\0addressyy");
});
