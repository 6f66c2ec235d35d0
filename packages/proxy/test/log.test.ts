import assert from "node:assert/strict";
import { test } from "node:test";
import { formatLogLine } from "../src/log.ts";

test("a log line has Envoy's shape, its time the one given, to the millisecond", () => {
  const a = new Date(2024, 11, 15, 6, 24, 57, 672);
  const b = new Date(2024, 11, 15, 6, 24, 57, 673);
  const pid = process.pid;
  assert.equal(
    formatLogLine("warning", "http", "one", a),
    `[2024-12-15 06:24:57.672][${pid}][warning][http] one\n`,
  );
  // The time prefix is kept per millisecond: the same one again, then the next, then a number.
  assert.equal(
    formatLogLine("info", "wasm", "two", a),
    `[2024-12-15 06:24:57.672][${pid}][info][wasm] two\n`,
  );
  assert.equal(
    formatLogLine("info", "wasm", "three", b),
    `[2024-12-15 06:24:57.673][${pid}][info][wasm] three\n`,
  );
  assert.equal(
    formatLogLine("error", "main", "four", a.getTime()),
    `[2024-12-15 06:24:57.672][${pid}][error][main] four\n`,
  );
});
