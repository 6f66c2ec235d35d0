// The module's exports: every v0.2.1 callback, the allocator and the ABI version marker. A plugin's
// entry file re-exports this file (`export * from "@proxy-wasm-ts/sdk/assembly/exports"`).

import "../abort"; // the abort/trace/seed replacements asconfig.json aliases
import * as dispatch from "../dispatcher";
import { collectGarbage } from "../collector";

export { malloc, proxy_on_memory_allocate } from "../memory";

/** Marks the module as Proxy-Wasm ABI v0.2.1 (hosts look for this export). */
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  dispatch.onContextCreate(contextId, parentId);
}
export function proxy_on_vm_start(contextId: u32, configurationSize: u32): u32 {
  return dispatch.onVmStart(contextId, configurationSize) ? 1 : 0;
}
export function proxy_on_configure(contextId: u32, configurationSize: u32): u32 {
  return dispatch.onConfigure(contextId, configurationSize) ? 1 : 0;
}
export function proxy_on_tick(contextId: u32): void {
  dispatch.onTick(contextId);
  collectGarbage();
}
export function proxy_on_queue_ready(contextId: u32, queueId: u32): void {
  dispatch.onQueueReady(contextId, queueId);
}
export function proxy_on_foreign_function(contextId: u32, functionId: u32, argumentsSize: u32): void {
  dispatch.onForeignFunction(contextId, functionId, argumentsSize);
}

export function proxy_on_request_headers(contextId: u32, count: u32, endOfStream: u32): u32 {
  return dispatch.onRequestHeaders(contextId, count, endOfStream != 0);
}
export function proxy_on_request_body(contextId: u32, size: u32, endOfStream: u32): u32 {
  return dispatch.onRequestBody(contextId, size, endOfStream != 0);
}
export function proxy_on_request_trailers(contextId: u32, count: u32): u32 {
  return dispatch.onRequestTrailers(contextId, count);
}
export function proxy_on_response_headers(contextId: u32, count: u32, endOfStream: u32): u32 {
  return dispatch.onResponseHeaders(contextId, count, endOfStream != 0);
}
export function proxy_on_response_body(contextId: u32, size: u32, endOfStream: u32): u32 {
  return dispatch.onResponseBody(contextId, size, endOfStream != 0);
}
export function proxy_on_response_trailers(contextId: u32, count: u32): u32 {
  return dispatch.onResponseTrailers(contextId, count);
}

export function proxy_on_new_connection(contextId: u32): u32 {
  return dispatch.onNewConnection(contextId);
}
export function proxy_on_downstream_data(contextId: u32, size: u32, endOfStream: u32): u32 {
  return dispatch.onDownstreamData(contextId, size, endOfStream != 0);
}
export function proxy_on_upstream_data(contextId: u32, size: u32, endOfStream: u32): u32 {
  return dispatch.onUpstreamData(contextId, size, endOfStream != 0);
}
export function proxy_on_downstream_connection_close(contextId: u32, peer: u32): void {
  dispatch.onDownstreamConnectionClose(contextId, peer);
}
export function proxy_on_upstream_connection_close(contextId: u32, peer: u32): void {
  dispatch.onUpstreamConnectionClose(contextId, peer);
}

export function proxy_on_done(contextId: u32): u32 {
  return dispatch.onDone(contextId) ? 1 : 0;
}
export function proxy_on_log(contextId: u32): void {
  dispatch.onLog(contextId);
}
export function proxy_on_delete(contextId: u32): void {
  dispatch.onDelete(contextId);
  collectGarbage();
}

export function proxy_on_http_call_response(
  contextId: u32,
  token: u32,
  headers: u32,
  bodySize: u32,
  trailers: u32,
): void {
  dispatch.onHttpCallResponse(contextId, token, headers, bodySize, trailers);
}
export function proxy_on_grpc_receive_initial_metadata(contextId: u32, token: u32, count: u32): void {
  dispatch.onGrpcReceiveInitialMetadata(contextId, token, count);
}
export function proxy_on_grpc_receive(contextId: u32, token: u32, size: u32): void {
  dispatch.onGrpcReceive(contextId, token, size);
}
export function proxy_on_grpc_receive_trailing_metadata(contextId: u32, token: u32, count: u32): void {
  dispatch.onGrpcReceiveTrailingMetadata(contextId, token, count);
}
export function proxy_on_grpc_close(contextId: u32, token: u32, statusCode: u32): void {
  dispatch.onGrpcClose(contextId, token, statusCode);
}
