/** The spec's pair serialization (pairs.ts): lengths and counts as little-endian u32, read and written by hand. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { countPairs, parsePairs, serializePairs, visitPairs } from "../src/pairs.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

test("pairs round-trip with a count over one byte and a value length over two bytes", () => {
  const big = new Uint8Array(70_000).fill(0x61);
  const input: Array<[Uint8Array, Uint8Array]> = Array.from({ length: 300 }, (_, i) => [
    utf8(`n${i}`),
    utf8(`v${i}`),
  ]);
  input.push([utf8("big"), big]);
  const bytes = serializePairs(input);
  assert.deepEqual([...bytes.subarray(0, 4)], [301 & 0xff, 301 >> 8, 0, 0], "the count, little-endian");
  assert.equal(countPairs(bytes), 301);
  const parsed = parsePairs(bytes);
  assert.equal(parsed?.length, 301);
  assert.deepEqual(parsed?.[299], [utf8("n299"), utf8("v299")]);
  assert.equal(parsed?.[300]?.[1].length, 70_000);
  const names: string[] = [];
  visitPairs(bytes, 301, (start, length) =>
    names.push(new TextDecoder().decode(bytes.subarray(start, start + length))),
  );
  assert.deepEqual(names.slice(0, 2), ["n0", "n1"]);
  assert.equal(names.at(-1), "big");
});

test("countPairs: -1 for a serialization cut short or claiming more than it holds", () => {
  const bytes = serializePairs([
    ["a", "1"],
    ["b", "2"],
  ]);
  assert.equal(countPairs(bytes), 2);
  assert.equal(countPairs(bytes.subarray(0, bytes.length - 1)), -1);
  assert.equal(countPairs(new Uint8Array([5, 0, 0, 0])), -1);
  assert.equal(countPairs(new Uint8Array(0)), 0);
  assert.equal(countPairs(new Uint8Array([0])), 0);
  assert.equal(parsePairs(bytes.subarray(0, 3)), null);
});
