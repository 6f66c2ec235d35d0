/**
 * Small hand-written Proxy-Wasm plugins (WebAssembly text, compiled with wabt, see wat.ts) that the
 * data-plane tests run through `pwts run` / the in-process proxy. Each exercises one behaviour Envoy users
 * rely on; all export what Envoy requires of a v0.2.1 module.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileWat } from "./wat.ts";

/** Imports, memory, allocator and the callbacks every plugin has; `funcs` override or add callbacks. */
function module(data: Record<number, string>, funcs: Record<string, string>): string {
  const defaults: Record<string, string> = {
    proxy_on_context_create: '(func (export "proxy_on_context_create") (param i32 i32))',
    proxy_on_vm_start: '(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))',
    proxy_on_configure: '(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))',
    proxy_on_request_headers:
      '(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))',
    proxy_on_request_body:
      '(func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (i32.const 0))',
    proxy_on_response_headers:
      '(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))',
    proxy_on_response_body:
      '(func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (i32.const 0))',
    proxy_on_http_call_response: '(func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32))',
    proxy_on_done: '(func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))',
    proxy_on_log: '(func (export "proxy_on_log") (param i32))',
    proxy_on_delete: '(func (export "proxy_on_delete") (param i32))',
  };
  const all = { ...defaults, ...funcs };
  // WAT string literals: quotes, backslashes and non-printable bytes are written as \hh.
  const esc = (text: string) =>
    [...new TextEncoder().encode(text)]
      .map((b) =>
        b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c
          ? `\\${b.toString(16).padStart(2, "0")}`
          : String.fromCharCode(b),
      )
      .join("");
  return `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func $set_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $set_effective (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_call_foreign_function" (func $ffi (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define_metric (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment_metric (param i32 i64) (result i32)))
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call"
    (func $grpc_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ${Object.entries(data)
    .map(([offset, text]) => `(data (i32.const ${offset}) "${esc(text)}")`)
    .join("\n  ")}
  (global $heap (mut i32) (i32.const 65536))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_1"))
  ${Object.values(all).join("\n  ")}
)`;
}

// Map types: 0 request headers, 2 response headers. Buffer types: 0 request body, 1 response body, 4 call body.

/**
 * Adds `x-wasm: on` to requests and `x-wasm-response: on` to responses; counts requests in a counter metric
 * and (unless `logEachRequest` is false) logs each request at info.
 */
export function headerPluginWat(logEachRequest = true): string {
  return module(
    {
      16: "x-wasm",
      32: "on",
      48: "x-wasm-response",
      80: "wasm_requests_total",
      112: "header plugin saw a request",
    },
    {
      proxy_on_vm_start: `(global $counter (mut i32) (i32.const 0))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $define_metric (i32.const 0) (i32.const 80) (i32.const 19) (i32.const 1024)))
    (global.set $counter (i32.load (i32.const 1024)))
    (i32.const 1))`,
      proxy_on_request_headers: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $replace (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 32) (i32.const 2)))
    (drop (call $increment_metric (global.get $counter) (i64.const 1)))
    ${logEachRequest ? "(drop (call $log (i32.const 2) (i32.const 112) (i32.const 27)))" : ""}
    (i32.const 0))`,
      proxy_on_response_headers: `(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $replace (i32.const 2) (i32.const 48) (i32.const 15) (i32.const 32) (i32.const 2)))
    (i32.const 0))`,
    },
  );
}

/** Does nothing (the benchmark's "one no-op Wasm filter"). */
export function noopPluginWat(): string {
  return module({}, {});
}

/** Traps (`unreachable`) in every second on_request_headers of its VM; the others add `x-wasm: on`. */
export function flakyPluginWat(): string {
  return module(
    { 16: "x-wasm", 32: "on" },
    {
      proxy_on_request_headers: `(global $seen (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (global.set $seen (i32.add (global.get $seen) (i32.const 1)))
    (if (i32.eqz (i32.and (global.get $seen) (i32.const 1))) (then unreachable))
    (drop (call $replace (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 32) (i32.const 2)))
    (i32.const 0))`,
    },
  );
}

/**
 * Loops forever in on_request_headers when the request has an `x-loop` header (reading it through a
 * hostcall, so the loop is a guest loop calling the host); otherwise adds `x-wasm: on`. Stopped only by the
 * callback time limit.
 */
export function loopingPluginWat(): string {
  return module(
    { 16: "x-wasm", 32: "on", 48: "x-loop" },
    {
      proxy_on_request_headers: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get_header (i32.const 0) (i32.const 48) (i32.const 6) (i32.const 1024) (i32.const 1028)))
      (then (loop $forever
        (drop (call $get_header (i32.const 0) (i32.const 48) (i32.const 6) (i32.const 1024) (i32.const 1028)))
        (br $forever))))
    (drop (call $replace (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 32) (i32.const 2)))
    (i32.const 0))`,
    },
  );
}

/** on_configure returns false: Envoy refuses to start. */
export function rejectConfigurePluginWat(): string {
  return module(
    {},
    { proxy_on_configure: `(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0))` },
  );
}

/**
 * The regional-routing shape (seed 002): pauses the request, asks cluster `discovery` for `/region`, puts the
 * answer in the `region` request header, calls `clear_route_cache`, resumes.
 */
export function regionPluginWat(): string {
  const call = serializePairs([
    [":method", "GET"],
    [":path", "/region"],
    [":authority", "discovery"],
  ]);
  return module(
    { 16: "discovery", 32: "region", 48: "clear_route_cache" },
    {
      proxy_on_request_headers: `(global $pending (mut i32) (i32.const 0))
  (data (i32.const 256) "${call.escaped}")
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (global.set $pending (local.get $ctx))
    (drop (call $http_call (i32.const 16) (i32.const 9) (i32.const 256) (i32.const ${call.length})
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2000) (i32.const 1024)))
    (i32.const 1))`,
      proxy_on_http_call_response: `(func (export "proxy_on_http_call_response") (param i32 i32 i32) (param $size i32) (param i32)
    (drop (call $set_effective (global.get $pending)))
    (if (i32.eqz (call $get_buffer (i32.const 4) (i32.const 0) (local.get $size) (i32.const 1032) (i32.const 1036)))
      (then (drop (call $replace (i32.const 0) (i32.const 32) (i32.const 6) (i32.load (i32.const 1032)) (i32.load (i32.const 1036))))))
    (drop (call $ffi (i32.const 48) (i32.const 17) (i32.const 0) (i32.const 0) (i32.const 1040) (i32.const 1044)))
    (drop (call $continue (i32.const 0))))`,
    },
  );
}

/**
 * Buffers whole bodies: pauses each body chunk until end of stream, then replaces the request body with
 * "REDACTED" and the response body with its length in decimal... kept simple: with "BUFFERED".
 */
export function bufferingPluginWat(): string {
  return module(
    { 16: "REDACTED", 32: "content-length", 64: "BUFFERED" },
    {
      proxy_on_request_headers: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $remove (i32.const 0) (i32.const 32) (i32.const 14)))
    (i32.const 0))`,
      proxy_on_request_body: `(func (export "proxy_on_request_body") (param i32) (param $size i32) (param $eos i32) (result i32)
    (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
    (drop (call $set_buffer (i32.const 0) (i32.const 0) (local.get $size) (i32.const 16) (i32.const 8)))
    (i32.const 0))`,
      proxy_on_response_headers: `(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $remove (i32.const 2) (i32.const 32) (i32.const 14)))
    (i32.const 0))`,
      proxy_on_response_body: `(func (export "proxy_on_response_body") (param i32) (param $size i32) (param $eos i32) (result i32)
    (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
    (drop (call $set_buffer (i32.const 1) (i32.const 0) (local.get $size) (i32.const 64) (i32.const 8)))
    (i32.const 0))`,
    },
  );
}

function serializePairs(pairs: Array<[string, string]>): { escaped: string; length: number } {
  const enc = new TextEncoder();
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >> 24) & 255);
  u32(pairs.length);
  for (const [k, v] of pairs) {
    u32(k.length);
    u32(v.length);
  }
  for (const [k, v] of pairs) parts.push(...enc.encode(k), 0, ...enc.encode(v), 0);
  return { escaped: parts.map((b) => `\\${b.toString(16).padStart(2, "0")}`).join(""), length: parts.length };
}

/**
 * The API-observer shape (seed 003): copies `node.metadata.NAME` and `source.address` into request headers
 * `x-node-name` / `x-source`, and from `on_done` POSTs an event to cluster `ingestion-service`.
 */
export function observerPluginWat(): string {
  const call = serializePairs([
    [":method", "POST"],
    [":path", "/api/v1/events"],
    [":authority", "ingestion-service"],
  ]);
  return module(
    {
      16: "node\u0000metadata\u0000NAME",
      48: "source\u0000address",
      80: "x-node-name",
      96: "x-source",
      112: "ingestion-service",
      144: '{"event":"done"}',
    },
    {
      proxy_on_request_headers: `(data (i32.const 512) "${call.escaped}")
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get_property (i32.const 16) (i32.const 18) (i32.const 1024) (i32.const 1028)))
      (then (drop (call $replace (i32.const 0) (i32.const 80) (i32.const 11) (i32.load (i32.const 1024)) (i32.load (i32.const 1028))))))
    (if (i32.eqz (call $get_property (i32.const 48) (i32.const 14) (i32.const 1024) (i32.const 1028)))
      (then (drop (call $replace (i32.const 0) (i32.const 96) (i32.const 8) (i32.load (i32.const 1024)) (i32.load (i32.const 1028))))))
    (i32.const 0))`,
      proxy_on_done: `(func (export "proxy_on_done") (param i32) (result i32)
    (drop (call $http_call (i32.const 112) (i32.const 17) (i32.const 512) (i32.const ${call.length})
      (i32.const 144) (i32.const 16) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 1024)))
    (i32.const 1))`,
    },
  );
}

/**
 * A gRPC callout: pauses the request, calls `test.Echo/Reverse` on cluster `grpc_backend` with "ping", puts
 * the reply in `x-grpc-reply` and the final status (two digits) in `x-grpc-status`, then resumes: from
 * `proxy_on_grpc_receive` when the call succeeds (status 00), from `proxy_on_grpc_close` when it fails.
 */
export function grpcPluginWat(): string {
  return module(
    {
      16: "grpc_backend",
      32: "test.Echo",
      48: "Reverse",
      64: "ping",
      80: "x-grpc-reply",
      96: "x-grpc-status",
      112: "00",
      120: "00",
    },
    {
      proxy_on_request_headers: `(global $pending (mut i32) (i32.const 0))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    (global.set $pending (local.get $ctx))
    (if (call $grpc_call (i32.const 16) (i32.const 12) (i32.const 32) (i32.const 9) (i32.const 48) (i32.const 7)
          (i32.const 0) (i32.const 0) (i32.const 64) (i32.const 4) (i32.const 2000) (i32.const 1024))
      (then (return (i32.const 0))))
    (i32.const 1))
  (func (export "proxy_on_grpc_receive_initial_metadata") (param i32 i32 i32))
  (func (export "proxy_on_grpc_receive_trailing_metadata") (param i32 i32 i32))
  (func (export "proxy_on_grpc_receive") (param i32 i32) (param $size i32)
    (drop (call $set_effective (global.get $pending)))
    (if (i32.eqz (call $get_buffer (i32.const 5) (i32.const 0) (local.get $size) (i32.const 1032) (i32.const 1036)))
      (then (drop (call $replace (i32.const 0) (i32.const 80) (i32.const 12) (i32.load (i32.const 1032)) (i32.load (i32.const 1036))))))
    ;; A successful unary call ends here: Envoy delivers no close callback after its message.
    (drop (call $replace (i32.const 0) (i32.const 96) (i32.const 13) (i32.const 120) (i32.const 2)))
    (drop (call $continue (i32.const 0))))
  (func (export "proxy_on_grpc_close") (param i32 i32) (param $status i32)
    (drop (call $set_effective (global.get $pending)))
    (i32.store8 (i32.const 112) (i32.add (i32.const 48) (i32.div_u (local.get $status) (i32.const 10))))
    (i32.store8 (i32.const 113) (i32.add (i32.const 48) (i32.rem_u (local.get $status) (i32.const 10))))
    (drop (call $replace (i32.const 0) (i32.const 96) (i32.const 13) (i32.const 112) (i32.const 2)))
    (drop (call $continue (i32.const 0))))`,
    },
  );
}

/**
 * Sets one header an HTTP message must not carry (a value with CR, LF or NUL, or a name that is not a
 * token): in the request headers, the response headers, or the headers of a 418 local reply it sends
 * from on_request_headers. `name` and `value` are ASCII.
 */
export function invalidHeaderPluginWat(
  where: "request" | "response" | "local-reply",
  name: string,
  value: string,
): string {
  if (where === "local-reply") {
    const pairs = serializePairs([[name, value]]);
    return module(
      { 16: "teapot" },
      {
        proxy_on_request_headers: `(data (i32.const 256) "${pairs.escaped}")
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $local_response (i32.const 418) (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 6)
      (i32.const 256) (i32.const ${pairs.length}) (i32.const -1)))
    (i32.const 1))`,
      },
    );
  }
  const callback = where === "request" ? "proxy_on_request_headers" : "proxy_on_response_headers";
  const map = where === "request" ? 0 : 2;
  return module(
    { 16: name, 64: value },
    {
      [callback]: `(func (export "${callback}") (param i32 i32 i32) (result i32)
    (drop (call $replace (i32.const ${map}) (i32.const 16) (i32.const ${name.length}) (i32.const 64) (i32.const ${value.length})))
    (i32.const 0))`,
    },
  );
}

/**
 * Shows what a plugin sees of a request and its trailers. Request headers: copies `request.protocol` into
 * `x-seen-protocol` and the `:scheme`, `:authority`, `:method` and `:path` pseudo-headers into `x-seen-scheme`,
 * `x-seen-authority`, `x-seen-method` and `x-seen-path`. Request trailers: copies trailer `x-client-trailer` into
 * `x-seen-client-trailer` and adds `x-plugin-request-trailer: req`. Response trailers: copies `grpc-status` into
 * `x-seen-grpc-status` and adds `x-plugin-response-trailer: resp`. With `bufferResponse`, the response body
 * is held (StopIterationAndBuffer) until the trailers come.
 */
export function trailersPluginWat(bufferResponse = false): string {
  // Map types: 0 request headers, 1 request trailers, 2 response headers, 3 response trailers.
  const copy = (map: number, from: number, fromLen: number, to: number, toLen: number) =>
    `(if (i32.eqz (call $get_header (i32.const ${map}) (i32.const ${from}) (i32.const ${fromLen}) (i32.const 1024) (i32.const 1028)))
      (then (drop (call $replace (i32.const ${map}) (i32.const ${to}) (i32.const ${toLen}) (i32.load (i32.const 1024)) (i32.load (i32.const 1028))))))`;
  return module(
    {
      16: "request\u0000protocol",
      48: "x-seen-protocol",
      80: ":scheme",
      96: "x-seen-scheme",
      128: ":authority",
      144: "x-seen-authority",
      176: ":method",
      192: "x-seen-method",
      224: ":path",
      240: "x-seen-path",
      272: "x-client-trailer",
      304: "x-seen-client-trailer",
      336: "x-plugin-request-trailer",
      368: "req",
      384: "grpc-status",
      400: "x-seen-grpc-status",
      432: "x-plugin-response-trailer",
      464: "resp",
    },
    {
      proxy_on_request_headers: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get_property (i32.const 16) (i32.const 16) (i32.const 1024) (i32.const 1028)))
      (then (drop (call $replace (i32.const 0) (i32.const 48) (i32.const 15) (i32.load (i32.const 1024)) (i32.load (i32.const 1028))))))
    ${copy(0, 80, 7, 96, 13)}
    ${copy(0, 128, 10, 144, 16)}
    ${copy(0, 176, 7, 192, 13)}
    ${copy(0, 224, 5, 240, 11)}
    (i32.const 0))`,
      proxy_on_request_trailers: `(func (export "proxy_on_request_trailers") (param i32 i32) (result i32)
    ${copy(1, 272, 16, 304, 21)}
    (drop (call $replace (i32.const 1) (i32.const 336) (i32.const 24) (i32.const 368) (i32.const 3)))
    (i32.const 0))`,
      proxy_on_response_body: `(func (export "proxy_on_response_body") (param i32 i32) (param $end i32) (result i32)
    ${bufferResponse ? "(if (i32.eqz (local.get $end)) (then (return (i32.const 1))))" : ""}
    (i32.const 0))`,
      proxy_on_response_trailers: `(func (export "proxy_on_response_trailers") (param i32 i32) (result i32)
    ${copy(3, 384, 11, 400, 18)}
    (drop (call $replace (i32.const 3) (i32.const 432) (i32.const 25) (i32.const 464) (i32.const 4)))
    (i32.const 0))`,
    },
  );
}

/**
 * Answers every request from on_request_headers with `status`, body `message`, and gRPC status
 * `grpcStatus` (-1: none, Envoy then maps the HTTP status).
 */
export function localReplyPluginWat(status: number, message: string, grpcStatus: number): string {
  return module(
    { 16: message },
    {
      proxy_on_request_headers: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $local_response (i32.const ${status}) (i32.const 0) (i32.const 0) (i32.const 16)
      (i32.const ${Buffer.byteLength(message)}) (i32.const 0) (i32.const 0) (i32.const ${grpcStatus})))
    (i32.const 1))`,
    },
  );
}

/** Writes compiled plugins to a fresh temporary directory; returns their paths by name. */
export function writePlugins<T extends string>(
  plugins: Record<T, string>,
): { dir: string; path: Record<T, string> } {
  const dir = mkdtempSync(join(tmpdir(), "pwts-proxy-test-"));
  const path = {} as Record<T, string>;
  for (const [name, wat] of Object.entries(plugins) as Array<[T, string]>) {
    const file = join(dir, `${name}.wasm`);
    writeFileSync(file, compileWat(wat, `${name}.wat`));
    path[name] = file;
  }
  return { dir, path };
}
