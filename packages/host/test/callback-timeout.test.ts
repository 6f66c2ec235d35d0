import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CallbackTimeoutError, ModuleLoadError, ProxyWasmHost } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { loopingPluginWat } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";

const looping = compileWat(loopingPluginWat(), "looping.wat");

describe("callback time limit", { timeout: 60_000 }, () => {
  test("harness: a looping on_request_headers throws an error naming the callback", async () => {
    const t = await startPlugin(looping, { name: "looper", callbackTimeoutMs: 100 });
    const stream = t.http();
    assert.throws(
      () =>
        stream.requestHeaders([
          [":path", "/"],
          ["x-loop", "1"],
        ]),
      (err: unknown) =>
        err instanceof CallbackTimeoutError &&
        err.callback === "proxy_on_request_headers" &&
        /proxy_on_request_headers ran longer than the callback time limit \(100 ms\)/.test(err.message),
    );
    assert.equal(t.plugin.failed, true);
    assert.equal(t.plugin.failures[0]?.callback, "proxy_on_request_headers");
    // Reported once: later streams see the failure policy (FAIL_CLOSED: a 503), not the error again.
    const next = t.http();
    next.requestHeaders([[":path", "/"]]);
    assert.equal(next.localReply?.statusCode, 503);
  });

  test("the instrumented module behaves as the original when nothing loops", async () => {
    const t = await startPlugin(looping, { callbackTimeoutMs: 1000 });
    const stream = t.http();
    stream.requestHeaders([[":path", "/"]]);
    assert.equal(stream.requestHeader("x-wasm"), "on");
    assert.equal(t.plugin.failed, false);
    assert.equal(
      t.plugin.module.size,
      looping.length,
      "size is the user's module's, not the instrumented one",
    );
  });

  test("host: the VM failure is logged naming the plugin and the callback", async () => {
    const lines: string[] = [];
    const host = new ProxyWasmHost({
      callbackTimeoutMs: 50,
      log: (e) => lines.push(`${e.pluginName}: ${e.message}`),
    });
    const plugin = await host.createPlugin(looping, { name: "looper", failurePolicy: "FAIL_OPEN" });
    const stream = plugin.newHttpStream();
    stream.requestHeaders([
      [":path", "/"],
      ["x-loop", "1"],
    ]);
    assert.ok(
      lines.some((l) =>
        /^looper: VM failed in proxy_on_request_headers: proxy_on_request_headers ran longer/.test(l),
      ),
      lines.join("\n"),
    );
    // FAIL_OPEN: the next stream passes by the plugin.
    const next = plugin.newHttpStream();
    next.requestHeaders([[":path", "/"]]);
    assert.equal(next.localReply, null);
  });

  test("FAIL_RELOAD: the stream after a time-out runs on a fresh VM, with the time limit again", async () => {
    const host = new ProxyWasmHost({ callbackTimeoutMs: 50, log: () => {} });
    const plugin = await host.createPlugin(looping, { failurePolicy: "FAIL_RELOAD", reloadBackoffMs: 0 });
    const looped = plugin.newHttpStream();
    looped.requestHeaders([
      [":path", "/"],
      ["x-loop", "1"],
    ]);
    assert.equal(looped.localReply?.statusCode, 503);
    const failedVm = plugin.vm;
    const next = plugin.newHttpStream();
    next.requestHeaders([[":path", "/"]]);
    assert.equal(plugin.reloads, 1);
    assert.notEqual(plugin.vm, failedVm);
    assert.equal(next.request.headers?.getString("x-wasm"), "on");
    const again = plugin.newHttpStream();
    again.requestHeaders([
      [":path", "/"],
      ["x-loop", "1"],
    ]);
    assert.equal(again.localReply?.statusCode, 503, "the fresh VM is stopped too");
  });

  test("a module importing the guard's own check is refused", async () => {
    const sneaky = compileWat(
      `(module
        (import "pwts_callback_guard" "check" (func))
        (memory (export "memory") 1)
        (func (export "malloc") (param i32) (result i32) (i32.const 0))
        (func (export "proxy_abi_version_0_2_1")))`,
      "sneaky.wat",
    );
    await assert.rejects(
      new ProxyWasmHost({ callbackTimeoutMs: 100 }).loadModule(sneaky),
      (err: unknown) =>
        err instanceof ModuleLoadError && /unknown import pwts_callback_guard\.check/.test(err.message),
    );
  });

  test("a bad limit is refused naming the option", async () => {
    await assert.rejects(
      new ProxyWasmHost({ callbackTimeoutMs: -1 }).loadModule(looping),
      /callbackTimeoutMs must be a number of milliseconds >= 0, got -1/,
    );
  });
});
