/** Router edge cases that need no network: races between the downstream and the upstream exchange. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { UpstreamExchange } from "../src/cluster/upstream-request.ts";
import type { HttpListenerContext } from "../src/http/http-listener-context.ts";
import { Router, type RouterCallbacks } from "../src/http/router.ts";

function recordingExchange() {
  const calls: string[] = [];
  const exchange: UpstreamExchange = {
    pause: () => calls.push("pause"),
    resume: () => calls.push("resume"),
    abort: () => calls.push("abort"),
  };
  return { exchange, calls };
}

test("a response head arriving after the downstream finished cancels the exchange and goes nowhere", () => {
  const delivered: string[] = [];
  const stream = {
    finished: true,
    upstreamResponseHeaders: () => delivered.push("headers"),
    responseData: () => delivered.push("data"),
  } as unknown as RouterCallbacks;
  const router = new Router({} as HttpListenerContext, stream);
  const { exchange, calls } = recordingExchange();
  (router as unknown as { exchange: UpstreamExchange }).exchange = exchange;
  router.onUpstreamHeaders(200, [["content-type", "text/plain"]]);
  router.onUpstreamData(Buffer.from("late"));
  router.onUpstreamEnd();
  assert.deepEqual(calls, ["abort"], "the upstream exchange is cancelled once");
  assert.deepEqual(delivered, [], "nothing reaches the finished stream");
});

test("response flow control pauses the exchange once and resumes it when the downstream drains", () => {
  const router = new Router({} as HttpListenerContext, {} as RouterCallbacks);
  const { exchange, calls } = recordingExchange();
  (router as unknown as { exchange: UpstreamExchange }).exchange = exchange;
  let drained: (() => void) | undefined;
  router.pauseResponse((go) => {
    drained = go;
  });
  router.pauseResponse(() => assert.fail("already paused: no second drain wait"));
  assert.deepEqual(calls, ["pause"]);
  drained!();
  assert.deepEqual(calls, ["pause", "resume"]);
});
