/** Router edge cases that need no network: races between the downstream and the upstream exchange. */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import type { UpstreamResponse } from "../src/cluster/upstream-request.ts";
import type { HttpListenerContext } from "../src/http/http-listener-context.ts";
import { Router, type RouterCallbacks } from "../src/http/router.ts";

test("a response head arriving after the downstream finished is dropped without an unhandled error", async () => {
  const router = new Router({} as HttpListenerContext, { finished: true } as unknown as RouterCallbacks);
  // Like undici's BodyReadable: destroying it unread errors it with "Request aborted".
  const body = new Readable({
    read() {},
    destroy(err, callback) {
      callback(err ?? Object.assign(new Error("Request aborted"), { code: "UND_ERR_ABORTED" }));
    },
  });
  const uncaught: unknown[] = [];
  const record = (err: unknown) => uncaught.push(err);
  process.on("uncaughtException", record);
  try {
    const response: UpstreamResponse = { status: 200, headers: [], body };
    (router as unknown as { onResponse(r: UpstreamResponse): void }).onResponse(response);
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("uncaughtException", record);
  }
  assert.equal(body.destroyed, true, "the upstream body is released");
  assert.deepEqual(uncaught, []);
});
