import assert from "node:assert/strict";
import { before, test } from "node:test";
import { Action } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./support/fixture-build.ts";

let headersWasm: Uint8Array;
let bodiesWasm: Uint8Array;
before(async () => {
  headersWasm = await buildFixture("http-headers");
  bodiesWasm = await buildFixture("http-bodies");
});

const GET: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/items"],
  [":authority", "example.com"],
];

test("request headers: read, missing is null, empty is present, replace/remove/add, whole map", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(headersWasm);
  const http = plugin.http();
  http.requestHeaders([...GET, ["x-empty", ""], ["x-replace", "old"], ["x-remove", "gone"]], true);
  assert.equal(http.requestHeader("x-missing-status"), "1", "a missing header reads as null with NotFound");
  assert.equal(http.requestHeader("x-empty-seen"), "present-and-empty");
  assert.equal(http.requestHeader("x-replace"), "new");
  assert.equal(http.requestHeader("x-remove"), undefined);
  assert.equal(http.requestHeader("x-bytes"), "café");
  assert.equal(http.requestHeader("x-header-count"), "8", "getAll saw the map after the edits above");
  assert.equal(http.requestHeader("x-first-name"), ":method", "pairs keep their order");
  assert.equal(http.requestHeader("x-all-text-matches"), "yes", "getAllText gives getAll's entries as text");
  assert.equal(http.requestHeader("x-all-text-last"), "café", "getAllText decodes UTF-8 values");
  assert.equal(
    http.requestHeader("x-serialized-matches"),
    "yes",
    "getAllSerialized reads getAll's entries in place",
  );
  const written = JSON.parse(http.requestHeader("x-serialized-json") ?? "null") as Record<string, unknown>;
  assert.equal(written['count "all"'], 8, "a JsonKey is written escaped, with its colon");
  assert.equal(Object.keys(written).length, 9, "every entry became a member");
  assert.equal(written[":path"], "/items");
  assert.equal(written["x-bytes"], "café", "names and values are copied as UTF-8");
  assert.equal(written["x-empty"], "");
  assert.equal(http.requestHeader("x-callback-count"), "6");
  assert.equal(
    http.requestHeader("x-map-size-matches"),
    "yes",
    "proxy_get_header_map_size is the serialized size",
  );
  http.complete();
});

test("getAllText: a name that shares a slot of the SDK's name table with another (same length) reads as itself", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(headersWasm);
  // ":method"/"x-0zzzz" and ":path"/"x-4zz" hash to the same slot of headers.ts's 64-slot name table.
  for (const order of [0, 1]) {
    const pairs: Array<[string, string]> = [
      ["x-0zzzz", "a"],
      ["x-4zz", "b"],
    ];
    const http = plugin.http();
    http.requestHeaders(order === 0 ? [...GET, ...pairs] : [...pairs, ...GET], true);
    assert.equal(http.requestHeader("x-all-text-matches"), "yes");
    http.complete();
  }
});

test("response headers: set, and replacing the whole map", { timeout: 60_000 }, async () => {
  const plugin = await startPlugin(headersWasm);
  const http = plugin.http();
  http.requestHeaders(GET, true);
  http.responseHeaders(
    [
      [":status", "201"],
      ["x-internal", "secret"],
      ["content-type", "text/plain"],
    ],
    true,
  );
  assert.equal(http.responseHeader("x-powered-by"), "proxy-wasm-ts");
  assert.equal(http.responseHeader("x-upstream-status"), "201");
  assert.equal(http.responseHeader("x-internal"), undefined);
  assert.equal(http.responseHeader("content-type"), "text/plain");
  http.complete();
});

test("trailers: read and modified in both directions", { timeout: 60_000 }, async () => {
  const plugin = await startPlugin(headersWasm);
  const http = plugin.http();
  http.requestHeaders(GET, false);
  http.requestBody("abc", false);
  http.requestTrailers([["x-checksum", "42"]]);
  assert.deepEqual(http.requestTrailersList, [
    ["x-checksum", "42"],
    ["x-checksum-seen", "42"],
  ]);
  http.responseHeaders([[":status", "200"]], false);
  http.responseBody("body", false);
  http.responseTrailers([["grpc-status", "0"]]);
  assert.equal(http.responseTrailersList.find(([n]) => n === "x-trailer-added")?.[1], "yes");
  http.complete();
});

test("local reply with status, body, headers and details", { timeout: 60_000 }, async () => {
  const plugin = await startPlugin(headersWasm);
  const http = plugin.http();
  http.requestHeaders(
    [
      [":method", "GET"],
      [":path", "/deny"],
      [":authority", "example.com"],
    ],
    true,
  );
  const reply = http.localReply;
  assert.ok(reply, "the plugin answered locally");
  assert.equal(reply.statusCode, 403);
  assert.equal(http.localReplyBodyText, "denied by plugin");
  assert.equal(reply.details, "plugin_denied");
  assert.ok(
    reply.headers.some(
      ([n, v]) => new TextDecoder().decode(n) === "x-reason" && new TextDecoder().decode(v) === "policy",
    ),
  );
  http.complete();
});

test("request body: buffered with Pause until end of stream, then replaced", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(bodiesWasm);
  const http = plugin.http();
  http.requestHeaders([...GET, ["content-length", "11"]], false);
  assert.equal(http.requestHeader("content-length"), undefined);
  assert.equal(http.requestBody("hello ", false), Action.Pause);
  http.requestBody("world", true);
  assert.equal(http.requestBodyText, "HELLO WORLD (2 calls, 11 bytes)");
  http.complete();
});

test("response body: streamed chunks, the last one prepended and appended", { timeout: 60_000 }, async () => {
  const plugin = await startPlugin(bodiesWasm);
  const http = plugin.http();
  http.requestHeaders(GET, true);
  http.responseHeaders([[":status", "200"]], false);
  http.responseBody("abc", false);
  http.responseBody("def", true);
  assert.equal(http.responseBodyText, "abc<<def>>");
  http.complete();
});
