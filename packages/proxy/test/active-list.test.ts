/** The listener's list of in-flight items: membership, iteration while removing, nothing kept after removal. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ActiveList } from "../src/active-list.ts";

test("add, remove in any order, and iterate what is left", () => {
  const list = new ActiveList<string>();
  const a = list.add("a");
  const b = list.add("b");
  const c = list.add("c");
  assert.equal(list.size, 3);
  assert.deepEqual([...list].sort(), ["a", "b", "c"]);
  list.remove(b);
  assert.deepEqual([...list].sort(), ["a", "c"]);
  list.remove(c);
  list.remove(a);
  assert.equal(list.size, 0);
  assert.deepEqual([...list], []);
  list.add("d");
  assert.deepEqual([...list], ["d"]);
});

test("a second remove of the same entry changes nothing", () => {
  const list = new ActiveList<number>();
  const one = list.add(1);
  list.add(2);
  list.remove(one);
  list.remove(one);
  assert.equal(list.size, 1);
  assert.deepEqual([...list], [2]);
});

test("items may remove themselves and others while the list is walked", () => {
  const list = new ActiveList<number>();
  const entries = [1, 2, 3, 4].map((n) => list.add(n));
  const seen: number[] = [];
  for (const n of list) {
    seen.push(n);
    list.remove(entries[n - 1]!);
    if (n === 4) list.remove(entries[0]!);
  }
  assert.deepEqual(seen.sort(), [1, 2, 3, 4]);
  assert.equal(list.size, 0);
});

test("a removed entry keeps no reference to its item or its neighbours", () => {
  // What the list exists for: a dead entry promoted to the old generation must not hold young objects.
  const list = new ActiveList<object>();
  const first = list.add({ n: 1 });
  const middle = list.add({ n: 2 });
  list.add({ n: 3 });
  list.remove(middle);
  assert.equal(middle.value, undefined);
  assert.equal(middle.prev, undefined);
  assert.equal(middle.next, undefined);
  list.remove(first);
  assert.equal(first.value, undefined);
  assert.equal(first.prev, undefined);
  assert.equal(first.next, undefined);
});
