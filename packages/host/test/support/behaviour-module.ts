/**
 * A hand-written plugin whose behaviour a test steers through exported mutable globals: what each callback
 * returns, where it traps, and which hostcalls it makes (add a header, local reply, HTTP callout and resume,
 * body rewrite, TCP routing with `set_envoy_filter_state`). With trace on, the `[host->vm]` lines show the
 * exact callback sequence.
 */

import { compileWat } from "@proxy-wasm-ts/test-support/wat";
import { writeProtoFields } from "../../src/envoy/protobuf.ts";
import { serializePairs } from "../../src/pairs.ts";

function watString(bytes: Uint8Array): string {
  return [...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
}

const enc = (s: string) => new TextEncoder().encode(s);

/** Fixed guest addresses of the constant data the module uses. */
const DATA: Array<[name: string, offset: number, bytes: Uint8Array]> = [];
let at = 1024;
function data(name: string, bytes: Uint8Array): [number, number] {
  DATA.push([name, at, bytes]);
  const r: [number, number] = [at, bytes.length];
  at += (bytes.length + 15) & ~15;
  return r;
}

const HEADER_NAME = data("header-name", enc("x-wasm"));
const HEADER_VALUE = data("header-value", enc("on"));
const DETAILS = data("details", enc("denied_by_plugin"));
const FORBIDDEN = data("forbidden", enc("forbidden"));
const REPLY_HEADERS = data("reply-headers", serializePairs([["x-reason", "test"]]));
const CLUSTER = data("cluster", enc("auth_cluster"));
const CALL_HEADERS = data(
  "call-headers",
  serializePairs([
    [":method", "GET"],
    [":path", "/check"],
    [":authority", "auth"],
  ]),
);
const REDACTED = data("redacted", enc("REDACTED"));
const TICK = data("tick", enc("tick"));
const FFI_NAME = data("ffi-name", enc("set_envoy_filter_state"));
const FFI_ARGS = data(
  "ffi-args",
  writeProtoFields([
    [1, "envoy.tcp_proxy.cluster"],
    [2, "egress_b"],
  ]),
);

/** Where `trap_in` makes the module execute `unreachable`. */
export const TRAP = {
  none: 0,
  requestHeaders: 1,
  vmStart: 2,
  configure: 3,
  requestBody: 4,
  tick: 5,
  newConnection: 6,
  downstreamData: 7,
  start: 8,
} as const;

const globals = [
  ["trap_in", 0],
  ["vm_start_result", 1],
  ["configure_result", 1],
  ["done_result", 1],
  ["request_headers_result", 0],
  ["request_body_result", 0],
  ["request_trailers_result", 0],
  ["response_headers_result", 0],
  ["response_body_result", 0],
  ["downstream_result", 0],
  ["upstream_result", 0],
  ["local_reply", 0],
  ["callout", 0],
  ["redact_body", 0],
  ["route_tcp", 0],
  ["pending_ctx", 0],
  ["last_status", 0],
] as const;

export type BehaviourFlag = (typeof globals)[number][0];

const trapIf = (code: number) => `(if (i32.eq (global.get $trap_in) (i32.const ${code})) (then unreachable))`;

function behaviourWat(initial: Partial<Record<BehaviourFlag, number>>): string {
  return `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $set_effective (param i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func $set_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function" (func $ffi (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ${DATA.map(([, offset, bytes]) => `(data (i32.const ${offset}) "${watString(bytes)}")`).join("\n  ")}
  ${globals.map(([name, v]) => `(global $${name} (export "${name}") (mut i32) (i32.const ${initial[name] ?? v}))`).join("\n  ")}
  (global $heap (mut i32) (i32.const 16384))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "_initialize") ${trapIf(TRAP.start)})
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) ${trapIf(TRAP.vmStart)} (global.get $vm_start_result))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) ${trapIf(TRAP.configure)} (global.get $configure_result))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
    ${trapIf(TRAP.requestHeaders)}
    (drop (call $replace (i32.const 0) (i32.const ${HEADER_NAME[0]}) (i32.const ${HEADER_NAME[1]}) (i32.const ${HEADER_VALUE[0]}) (i32.const ${HEADER_VALUE[1]})))
    (if (global.get $local_reply) (then
      (global.set $last_status (call $reply (i32.const 403) (i32.const ${DETAILS[0]}) (i32.const ${DETAILS[1]}) (i32.const ${FORBIDDEN[0]}) (i32.const ${FORBIDDEN[1]}) (i32.const ${REPLY_HEADERS[0]}) (i32.const ${REPLY_HEADERS[1]}) (i32.const -1)))))
    (if (global.get $callout) (then
      (global.set $pending_ctx (local.get $ctx))
      (global.set $last_status (call $http_call (i32.const ${CLUSTER[0]}) (i32.const ${CLUSTER[1]}) (i32.const ${CALL_HEADERS[0]}) (i32.const ${CALL_HEADERS[1]}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 512)))))
    (global.get $request_headers_result))
  (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
    ${trapIf(TRAP.requestBody)}
    (if (i32.and (global.get $redact_body) (local.get $eos)) (then
      (drop (call $set_buffer (i32.const 0) (i32.const 0) (local.get $size) (i32.const ${REDACTED[0]}) (i32.const ${REDACTED[1]})))))
    (global.get $request_body_result))
  (func (export "proxy_on_request_trailers") (param i32 i32) (result i32) (global.get $request_trailers_result))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (global.get $response_headers_result))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (global.get $response_body_result))
  (func (export "proxy_on_response_trailers") (param i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
    (drop (call $set_effective (global.get $pending_ctx)))
    (global.set $last_status (call $continue (i32.const 0))))
  (func (export "proxy_on_done") (param i32) (result i32) (global.get $done_result))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))
  (func (export "proxy_on_tick") (param i32)
    ${trapIf(TRAP.tick)}
    (drop (call $log (i32.const 2) (i32.const ${TICK[0]}) (i32.const ${TICK[1]}))))
  (func (export "proxy_on_queue_ready") (param i32 i32))
  (func (export "proxy_on_new_connection") (param i32) (result i32)
    ${trapIf(TRAP.newConnection)}
    (if (global.get $route_tcp) (then
      (global.set $last_status (call $ffi (i32.const ${FFI_NAME[0]}) (i32.const ${FFI_NAME[1]}) (i32.const ${FFI_ARGS[0]}) (i32.const ${FFI_ARGS[1]}) (i32.const 0) (i32.const 0)))))
    (i32.const 0))
  (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) ${trapIf(TRAP.downstreamData)} (global.get $downstream_result))
  (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32) (global.get $upstream_result))
  (func (export "proxy_on_downstream_connection_close") (param i32 i32))
  (func (export "proxy_on_upstream_connection_close") (param i32 i32))
  (func (export "proxy_on_foreign_function") (param i32 i32 i32))
)`;
}

const compiled = new Map<string, Uint8Array>();
/** The module bytes, with chosen initial flag values (compiled once per distinct set). */
export function behaviourModule(initial: Partial<Record<BehaviourFlag, number>> = {}): Uint8Array {
  const key = JSON.stringify(initial);
  let bytes = compiled.get(key);
  if (!bytes) {
    bytes = compileWat(behaviourWat(initial), "behaviour.wat");
    compiled.set(key, bytes);
  }
  return bytes;
}

/** Reads or sets a behaviour flag of a running instance. */
export function flag(instance: WebAssembly.Instance, name: BehaviourFlag, value?: number): number {
  const g = instance.exports[name] as { value: number };
  if (value !== undefined) g.value = value;
  return g.value;
}
