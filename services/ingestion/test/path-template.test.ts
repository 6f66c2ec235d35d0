import assert from "node:assert/strict";
import { test } from "node:test";
import { maskSensitiveHeaders } from "../src/header-masking.ts";
import { routeTemplate } from "../src/path-template.ts";

test("ids in paths become {id}, e-mail addresses {email}, the query is dropped", () => {
  const cases: [string, string][] = [
    ["/users/42", "/users/{id}"],
    ["/users/42/orders/7?page=2", "/users/{id}/orders/{id}"],
    ["/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301", "/items/{id}"],
    ["/blobs/9f86d081884c7d659a2feaa0c55ad015", "/blobs/{id}"],
    ["/sessions/aZ3kq9XbT0pLmN7wRt2y", "/sessions/{id}"],
    ["/people/jane.doe%40example.com/profile", "/people/{email}/profile"],
    ["/health", "/health"],
    ["/v2/search", "/v2/search"],
    ["/users/me", "/users/me"],
    ["/", "/"],
    ["/a//b/", "/a//b/"],
    ["/bad%zzescape/1", "/bad%zzescape/{id}"],
    ["*", "*"],
  ];
  for (const [path, route] of cases) assert.equal(routeTemplate(path), route, path);
});

test("sensitive headers are masked case-insensitively, others kept", () => {
  const masked = maskSensitiveHeaders(
    { Authorization: "Bearer x", COOKIE: "a=b", "x-tenant": "t1", "x-secret": "s" },
    new Set(["x-secret"]),
  );
  assert.deepEqual(
    { ...masked },
    { Authorization: "[masked]", COOKIE: "[masked]", "x-tenant": "t1", "x-secret": "[masked]" },
  );
});
