import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { httpListener } from "@proxy-wasm-ts/test-support/envoy-config";
import { loopingPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { type PwtsProcess, startPwts } from "./support/pwts-process.ts";

const plugins = writePlugins({ looping: loopingPluginWat() });

function listener(name: string, withPlugin: boolean): string {
  const filter = withPlugin
    ? `
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: looper
                root_id: looper
                failure_policy: FAIL_CLOSED
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: "${plugins.path.looping}" } }`
    : "";
  return httpListener(
    name,
    `direct_response: { status: 200, body: { inline_string: "${name} ok" } }`,
    filter,
  );
}

const yaml = `
static_resources:
  listeners:${listener("looping", true)}${listener("other", false)}
  clusters: []
`;

async function get(port: number, headers: Record<string, string> = {}): Promise<[number, string]> {
  const res = await request(`http://127.0.0.1:${port}/`, { headers });
  return [res.statusCode, await res.body.text()];
}

describe("pwts run --callback-timeout with a plugin looping forever", { timeout: 60_000 }, () => {
  let pwts: PwtsProcess;
  before(async () => {
    pwts = await startPwts(yaml, plugins.dir, ["--callback-timeout", "300"]);
  });
  after(async () => {
    await pwts?.stop();
  });

  test("the looping stream gets FAIL_CLOSED's 503, the log names plugin and callback, the other listener answers", async () => {
    assert.deepEqual(await get(pwts.ports.looping!), [200, "looping ok"], "the plugin passes without x-loop");
    const [looped, other] = await Promise.all([
      get(pwts.ports.looping!, { "x-loop": "1" }),
      get(pwts.ports.other!),
    ]);
    assert.equal(looped[0], 503);
    assert.deepEqual(other, [200, "other ok"]);
    const line = await pwts.waitFor("stderr", /VM failed in proxy_on_request_headers/);
    assert.match(line, /looper.*proxy_on_request_headers ran longer than the callback time limit \(300 ms\)/);
    // The process keeps serving: the other listener still answers, the failed plugin's stays closed.
    assert.deepEqual(await get(pwts.ports.other!), [200, "other ok"]);
    assert.equal((await get(pwts.ports.looping!))[0], 503);
  });
});
