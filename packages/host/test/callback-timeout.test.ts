import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CallbackTimeoutError, ModuleLoadError, ProxyWasmHost } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { loopingPluginWat } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";

const looping = compileWat(loopingPluginWat(), "looping.wat");

/**
 * A callback that runs away without a loop: on a request body, `$spin 60` calls itself twice per level,
 * 2^60 calls in all. Only the steps at function entries can stop it (its body ends in an expression, whose
 * fall-through step the guard leaves out). On request headers, `$spin 3` answers 2^3 = 8 and runs to its end;
 * the module puts that in the request header `x-spins`.
 */
const recursing = compileWat(
  `(module
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "x-spins")
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func $spin (param $n i32) (result i32)
    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
    (if (result i32) (i32.lt_s (local.get $n) (i32.const 0))
      (then (i32.const 1))
      (else (i32.add (call $spin (local.get $n)) (call $spin (local.get $n))))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    ;; One ASCII digit: 0x30 + 8.
    (i32.store8 (i32.const 32) (i32.add (i32.const 0x30) (call $spin (i32.const 3))))
    (drop (call $replace (i32.const 0) (i32.const 16) (i32.const 7) (i32.const 32) (i32.const 1)))
    (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
    (drop (call $spin (i32.const 60)))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32)))`,
  "recursing.wat",
);

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

  test("harness: runaway recursion (no loop) is stopped too, naming the callback", async () => {
    const t = await startPlugin(recursing, { callbackTimeoutMs: 100 });
    const stream = t.http();
    // Bounded recursion runs to its end with the guard in place, and answers as it does without it.
    stream.requestHeaders([[":path", "/"]]);
    assert.equal(stream.requestHeader("x-spins"), "8");
    assert.throws(
      () => stream.requestBody("x", true),
      (err: unknown) => err instanceof CallbackTimeoutError && err.callback === "proxy_on_request_body",
    );
    assert.equal(t.plugin.failed, true);
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
