import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sendRequest } from "../../test-support/http-client.ts";
import { pluginDirOf } from "../../test-support/plugin-build.ts";
import { startTrainingStack, type TrainingStack } from "../../test-support/training-stack.ts";

let stack: TrainingStack;
before(async () => {
  stack = await startTrainingStack(pluginDirOf(import.meta.url));
});
after(async () => {
  await stack?.stop();
});

test("SECRET=topsecret in httpbin's answer comes back as SECRET=[REDACTED]", {
  timeout: 60_000,
}, async () => {
  const answer = await sendRequest("http://127.0.0.1:10004/anything?SECRET=topsecret&keep=me");
  assert.equal(answer.status, 200);
  assert.ok(answer.body.includes("SECRET=[REDACTED]"), answer.body);
  assert.ok(!answer.body.includes("topsecret"), answer.body);
  const json = JSON.parse(answer.body);
  assert.equal(json.args.SECRET, "[REDACTED]");
  assert.equal(json.args.keep, "me");
  // The body changed length: the stale content-length is gone and the framing matches what arrived.
  assert.equal(answer.headers["content-length"], undefined);
  assert.equal(answer.headers["transfer-encoding"], "chunked");
});

test("a body without secrets keeps its bytes", { timeout: 60_000 }, async () => {
  const answer = await sendRequest("http://127.0.0.1:10004/get?color=blue");
  assert.equal(answer.status, 200);
  assert.equal(JSON.parse(answer.body).args.color, "blue");
});

test("a body over max_body_bytes passes through unredacted, content-length kept, and the log says why", {
  timeout: 60_000,
}, async () => {
  // httpbin echoes the request body back inside its JSON answer: 300 000 bytes in, more than 262 144 out.
  const payload = `SECRET=stays ${"x".repeat(300_000)}`;
  const answer = await sendRequest("http://127.0.0.1:10004/anything", {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: payload,
  });
  assert.equal(answer.status, 200);
  assert.equal(JSON.parse(answer.body).data, payload);
  assert.equal(Number(answer.headers["content-length"]), Buffer.byteLength(answer.body));
  await stack.proxy.waitForOutput(
    /passed through unredacted: content-length \d+ exceeds max_body_bytes 262144/,
  );
});
