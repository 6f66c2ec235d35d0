import assert from "node:assert/strict";
import { test } from "node:test";
import { Status } from "../src/types.ts";
import { startAbiHarness } from "./support/abi-module.ts";

test("smoke: log through the trampoline module", { timeout: 20_000 }, async () => {
  const t = await startAbiHarness({ name: "smoke" });
  const [p, n] = t.put("hello");
  const root = t.harness.plugin.root;
  assert.equal(
    t.inContext(root, () => t.call("proxy_log", 2, p, n)),
    Status.Ok,
  );
  assert.deepEqual(t.harness.logs("info"), ["hello"]);
});
