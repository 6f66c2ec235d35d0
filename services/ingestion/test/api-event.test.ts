import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidEventError, normalizeEvent } from "../src/api-event.ts";

const now = Date.UTC(2026, 0, 1);

test("derived fields: latency from backend_latency_in_nanos, service from :authority, timestamps by precedence", () => {
  const event = normalizeEvent(
    {
      metadata: { timestamp: 1_700_000_000 },
      request: {
        headers: { ":method": "PATCH", ":path": "/orders/9?x=1", ":authority": "orders.shop:8080" },
      },
      response: { headers: { ":status": "204" }, backend_latency_in_nanos: 1_234_567 },
    },
    "event",
    { now },
  );
  assert.equal(event.service, "orders.shop");
  assert.equal(event.route, "/orders/{id}");
  assert.equal(event.status, 204);
  assert.equal(event.latencyMs, 1.235);
  assert.equal(event.ts, 1_700_000_000_000);
  assert.equal(
    normalizeEvent({ method: "GET", path: "/", timestamp_ms: 5, metadata: { timestamp: 9 } }, "e", { now })
      .ts,
    5,
  );
  assert.equal(normalizeEvent({ method: "GET", path: "/" }, "e", { now }).ts, now);
  assert.equal(normalizeEvent({ method: "GET", path: "/" }, "e", { now }).status, 0, "no response: status 0");
});

test("header names are lower-cased; names differing only in case are joined, not dropped", () => {
  const event = normalizeEvent(
    { method: "GET", path: "/", request: { headers: { "X-Tag": "a", "x-tag": "b", Accept: "*/*" } } },
    "event",
    { now },
  );
  assert.deepEqual({ ...event.requestHeaders }, { "x-tag": "a, b", accept: "*/*" });
});

test("a header named __proto__ is data, not object machinery", () => {
  const event = normalizeEvent(
    JSON.parse('{"method":"GET","path":"/","request":{"headers":{"__proto__":"x"}}}'),
    "e",
    { now },
  );
  assert.equal(Object.getOwnPropertyDescriptor(event.requestHeaders, "__proto__")?.value, "x");
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

test("a malformed :status is refused with the value named", () => {
  assert.throws(
    () =>
      normalizeEvent({ method: "GET", path: "/", response: { headers: { ":status": "OK" } } }, "event 2", {
        now,
      }),
    (e: Error) =>
      e instanceof InvalidEventError &&
      /event 2: response\.headers\[":status"\] "OK" is not an HTTP status/.test(e.message),
  );
});
