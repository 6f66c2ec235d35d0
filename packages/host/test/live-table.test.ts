/** The id table behind contexts and callout tokens: Map semantics, and nothing kept by removed entries. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LiveTable } from "../src/live-table.ts";

test("get, has, set, replace and delete by id", () => {
  const t = new LiveTable<string>();
  assert.equal(t.get(1), undefined);
  assert.equal(t.has(1), false);
  t.set(1, "one");
  t.set(2, "two");
  assert.equal(t.size, 2);
  assert.equal(t.get(1), "one");
  t.set(1, "uno");
  assert.equal(t.get(1), "uno");
  assert.equal(t.size, 2);
  assert.equal(t.delete(1), true);
  assert.equal(t.delete(1), false);
  assert.equal(t.has(1), false);
  assert.equal(t.get(1), undefined);
  assert.equal(t.get(2), "two");
  assert.equal(t.size, 1);
});

test("delete empties the entry's box, so a table V8 left behind cannot hold the value", () => {
  const t = new LiveTable<object>();
  t.set(7, { big: new Array(10).fill(0) });
  const boxes = (t as unknown as { boxes: Map<number, { value: unknown }> }).boxes;
  const box = boxes.get(7)!;
  t.delete(7);
  assert.equal(box.value, undefined);
});
