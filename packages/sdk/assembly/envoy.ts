// Envoy extensions reached through foreign functions (envoy source/extensions/common/wasm/foreign.cc).

import { Status } from "./abi/types";
import { toBytes } from "./bytes";
import { callForeignFunction } from "./foreign";
import { lastStatus } from "./memory";

/** How long filter state set by `setEnvoyFilterState` lives (`envoy.source.extensions.common.wasm.LifeSpan`). */
export enum LifeSpan {
  FilterChain = 0,
  DownstreamRequest = 1,
  DownstreamConnection = 2,
}

/** Appends a protobuf base-128 varint. */
function writeVarint(out: Array<u8>, value: u64): void {
  while (value >= 0x80) {
    out.push(<u8>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push(<u8>value);
}

/** Appends a length-delimited field (wire type 2). */
function writeBytesField(out: Array<u8>, field: u32, bytes: ArrayBuffer): void {
  writeVarint(out, (<u64>field << 3) | 2);
  writeVarint(out, <u64>bytes.byteLength);
  const view = Uint8Array.wrap(bytes);
  for (let i = 0; i < view.length; i++) out.push(unchecked(view[i]));
}

/**
 * Serializes `SetEnvoyFilterStateArguments { string path = 1; string value = 2; LifeSpan span = 3; }`.
 * Proto3 omits fields that hold their default (empty string, span 0).
 */
export function encodeSetEnvoyFilterStateArguments(path: string, value: string, span: LifeSpan): ArrayBuffer {
  const out = new Array<u8>();
  const pathBytes = toBytes(path);
  const valueBytes = toBytes(value);
  if (pathBytes.byteLength > 0) writeBytesField(out, 1, pathBytes);
  if (valueBytes.byteLength > 0) writeBytesField(out, 2, valueBytes);
  if (span != LifeSpan.FilterChain) {
    writeVarint(out, (3 << 3) | 0);
    writeVarint(out, <u64>span);
  }
  const bytes = new ArrayBuffer(out.length);
  memory.copy(changetype<usize>(bytes), out.dataStart, <usize>out.length);
  return bytes;
}

/**
 * Sets Envoy filter state `path` (a key with a registered object factory, e.g.
 * `envoy.tcp_proxy.cluster` to pick the TCP proxy's cluster) through the `set_envoy_filter_state`
 * foreign function. Unlike `setProperty`, the key is not prefixed with `wasm.`.
 */
export function setEnvoyFilterState(path: string, value: string, span: LifeSpan = LifeSpan.FilterChain): Status {
  const result = callForeignFunction("set_envoy_filter_state", encodeSetEnvoyFilterStateArguments(path, value, span));
  return result === null ? lastStatus() : Status.Ok;
}

/**
 * Makes Envoy pick the route again after the plugin changed headers that routing depends on.
 * Uses the `clear_route_cache` foreign function (the v0.1.0 `proxy_clear_route_cache` hostcall
 * does not exist for v0.2.1 modules).
 */
export function clearRouteCache(): Status {
  const result = callForeignFunction("clear_route_cache", new ArrayBuffer(0));
  return result === null ? lastStatus() : Status.Ok;
}
