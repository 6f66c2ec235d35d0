/**
 * Wasm services: `bootstrap_extensions` with `envoy.bootstrap.wasm` (envoy.extensions.wasm.v3.WasmService),
 * as source/extensions/bootstrap/wasm/config.cc runs them: a plugin with no filter, started beside the
 * listeners, sharing data and queues with the HTTP filters that use its vm_id.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { ConfigError } from "../src/config/config-error.ts";
import { parseBootstrapText } from "../src/config/load-config.ts";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";
import { WAT_PLUGIN_BASICS } from "./support/wat-plugin.ts";

/**
 * The service: at configure it puts `greeting` = "hello from the service" in shared data and registers the
 * queue `events`; each message queued there is logged. It counts its configures in a global of its VM and
 * logs "configured N" (a VM of its own starts at 1).
 */
const SERVICE = `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func $register (param i32 i32 i32) (result i32)))
  (import "env" "proxy_dequeue_shared_queue" (func $dequeue (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "greeting")
  (data (i32.const 32) "hello from the service")
  (data (i32.const 64) "events")
  (data (i32.const 80) "configured 0")
  (global $configured (mut i32) (i32.const 0))
  ${WAT_PLUGIN_BASICS}
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $set_shared (i32.const 16) (i32.const 8) (i32.const 32) (i32.const 22) (i32.const 0)))
    (drop (call $register (i32.const 64) (i32.const 6) (i32.const 1000)))
    (global.set $configured (i32.add (global.get $configured) (i32.const 1)))
    (i32.store8 (i32.const 91) (i32.add (i32.const 48) (global.get $configured)))
    (drop (call $log (i32.const 2) (i32.const 80) (i32.const 12)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_queue_ready") (param i32 i32)
    (if (i32.eqz (call $dequeue (local.get 1) (i32.const 1008) (i32.const 1012)))
      (then (drop (call $log (i32.const 2) (i32.load (i32.const 1008)) (i32.load (i32.const 1012)))))))
)`;

/**
 * The HTTP filter: copies shared data `greeting` into request header `x-greeting` and queues
 * "request seen" on the `events` queue of vm_id `shared`.
 */
const FILTER = `(module
  (import "env" "proxy_get_shared_data" (func $get_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_resolve_shared_queue" (func $resolve (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "greeting")
  (data (i32.const 32) "x-greeting")
  (data (i32.const 48) "shared")
  (data (i32.const 64) "events")
  (data (i32.const 80) "request seen")
  ${WAT_PLUGIN_BASICS}
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get_shared (i32.const 16) (i32.const 8) (i32.const 1000) (i32.const 1004) (i32.const 1008)))
      (then (drop (call $replace (i32.const 0) (i32.const 32) (i32.const 10)
        (i32.load (i32.const 1000)) (i32.load (i32.const 1004))))))
    (if (i32.eqz (call $resolve (i32.const 48) (i32.const 6) (i32.const 64) (i32.const 6) (i32.const 1012)))
      (then (drop (call $enqueue (i32.load (i32.const 1012)) (i32.const 80) (i32.const 12)))))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
)`;

/** A service whose plugin refuses its configuration (proxy_on_configure returns false). */
const REFUSING_SERVICE = `(module
  (memory (export "memory") 1)
  ${WAT_PLUGIN_BASICS}
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0))
)`;

const plugins = writePlugins({ service: SERVICE, filter: FILTER, refusing: REFUSING_SERVICE });

function service(
  singleton: boolean,
  vmId = "shared",
  name = "background",
  file = plugins.path.service,
  extra = "",
): string {
  return `
bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: ${singleton}
    config:
      name: ${name}
      root_id: ${name}
      vm_config:
        vm_id: ${vmId}
        runtime: envoy.wasm.runtime.v8
        code: { local: { filename: "${file}" } }${extra}
`;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

describe("Wasm services (bootstrap_extensions envoy.bootstrap.wasm)", { timeout: 30_000 }, () => {
  let upstream: TestUpstream;
  const running: RunningTestProxy[] = [];

  before(async () => {
    upstream = await startUpstream("backend");
  });

  after(async () => {
    for (const p of running) await p.close();
    await upstream?.close();
  });

  async function start(services: string, filterFile = plugins.path.filter): Promise<RunningTestProxy> {
    const p = await startTestProxy(
      services +
        httpBootstrap({
          filters: wasmHttpFilter(filterFile, { name: "front", vmId: "shared" }),
          routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
          clusters: staticCluster("backend", upstream.port),
          accessLog: false,
          admin: false,
        }),
    );
    running.push(p);
    return p;
  }

  test("a singleton service starts with the proxy and shares data and queues with filters of its vm_id", async () => {
    const p = await start(service(true));
    assert.ok(
      p.stderr.some((l) => l.includes("wasm log background background shared: configured 1")),
      p.stderr.join("\n"),
    );
    const res = await request(`${p.url()}/hello`);
    const body = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(body.headers["x-greeting"], "hello from the service");
    await until(
      () => p.stderr.some((l) => l.includes("wasm log background background shared: request seen")),
      "the service logs the message the filter queued",
    );
  });

  test("singleton: false runs the service as one plugin on the worker's VM, which is all one worker has", async () => {
    const p = await start(service(false));
    const res = await request(`${p.url()}/hello`);
    const body = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(body.headers["x-greeting"], "hello from the service");
    await until(
      () => p.stderr.some((l) => l.includes("wasm log background background shared: request seen")),
      "the service logs the message the filter queued",
    );
  });

  test("a service of another vm_id shares nothing with the filters", async () => {
    const p = await start(service(true, "elsewhere"));
    const res = await request(`${p.url()}/hello`);
    const body = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(body.headers["x-greeting"], undefined);
  });

  test("two singleton services on the same code and vm_id share one VM, apart from the filters'", async () => {
    const p = await start(
      service(true, "shared", "first") +
        service(true, "shared", "second").replace("bootstrap_extensions:\n", ""),
    );
    assert.ok(
      p.stderr.some((l) => l.includes("wasm log first first shared: configured 1")),
      p.stderr.join("\n"),
    );
    assert.ok(
      p.stderr.some((l) => l.includes("wasm log second second shared: configured 2")),
      p.stderr.join("\n"),
    );
  });

  test("a singleton service has a VM of its own, apart from a filter with the same code and vm_id; singleton: false shares the filter's", async () => {
    const own = await start(service(true), plugins.path.service);
    assert.ok(
      own.stderr.some((l) => l.includes("wasm log background background shared: configured 1")),
      own.stderr.join("\n"),
    );
    assert.ok(
      own.stderr.some((l) => l.includes("wasm log front front shared: configured 1")),
      own.stderr.join("\n"),
    );
    const shared = await start(service(false), plugins.path.service);
    assert.ok(
      shared.stderr.some((l) => l.includes("wasm log background background shared: configured 1")),
      shared.stderr.join("\n"),
    );
    assert.ok(
      shared.stderr.some((l) => l.includes("wasm log front front shared: configured 2")),
      shared.stderr.join("\n"),
    );
  });

  test("a service that fails to start leaves the proxy running without it, logged as Envoy logs it", async () => {
    // bootstrap/wasm/config.cc: the createWasm callback gets no Wasm, logs "Unable to create Wasm service
    // NAME" (critical; error with FAIL_OPEN) and start-up goes on.
    const p = await start(
      service(true, "shared", "refusing", plugins.path.refusing) +
        service(true, "other", "lenient", plugins.path.refusing, "\n      failure_policy: FAIL_OPEN").replace(
          "bootstrap_extensions:\n",
          "",
        ),
    );
    const res = await request(`${p.url()}/`);
    assert.equal(res.statusCode, 200, "the listeners serve");
    await res.body.dump();
    const lines = p.stderr.join("");
    assert.match(lines, /\[critical\]\[wasm\] Unable to create Wasm service refusing: /);
    assert.match(lines, /\[error\]\[wasm\] Unable to create Wasm service lenient: /);
  });

  test("a service whose code cannot be read stops start-up, naming the code", async () => {
    await assert.rejects(
      start(service(true, "shared", "missing", "/nonexistent/service.wasm")),
      (err: unknown) =>
        err instanceof ConfigError &&
        /cannot read Wasm module \/nonexistent\/service\.wasm/.test(err.message),
    );
  });

  test("a bootstrap extension other than a WasmService is refused naming the field", () => {
    assert.throws(
      () =>
        parseBootstrapText(
          `
bootstrap_extensions:
- name: envoy.bootstrap.internal_listener
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener
`,
          "bad.yaml",
          process.cwd(),
        ),
      (err: unknown) =>
        err instanceof ConfigError &&
        /^bootstrap_extensions\[0\]\.typed_config: unsupported type envoy\.extensions\.bootstrap\.internal_listener\.v3\.InternalListener \(supported: envoy\.extensions\.wasm\.v3\.WasmService\)$/.test(
          err.message,
        ),
    );
  });
});
