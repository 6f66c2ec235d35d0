/** Foreign functions: host extensions by name (envoy source/extensions/common/wasm/foreign.cc). */

import { expectOk, hostcall } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { encodeUtf8 } from "./text-encoding.ts";

/** Calls foreign function `name` with `args`; returns its result bytes. Throws HostCallError on failure. */
export function callForeignFunction(name: string, args: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const bytes = typeof args === "string" ? encodeUtf8(args) : args;
  const result = expectOk<ArrayBuffer>(
    `foreign function ${name}`,
    hostcall(HostOp.CallForeignFunction, name, bytes.slice().buffer),
  );
  return new Uint8Array(result);
}

/** How long filter state lives (`envoy.source.extensions.common.wasm.LifeSpan`). */
export const LifeSpan = { FilterChain: 0, DownstreamRequest: 1, DownstreamConnection: 2 } as const;

function varint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

function bytesField(out: number[], field: number, bytes: Uint8Array): void {
  varint(out, (field << 3) | 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/**
 * Sets Envoy filter state `path` (e.g. `envoy.tcp_proxy.cluster`) through `set_envoy_filter_state`,
 * whose argument is `SetEnvoyFilterStateArguments { string path = 1; string value = 2; LifeSpan span = 3; }`
 * (proto3: default-valued fields are omitted). Three fields do not justify a protobuf library.
 */
export function setEnvoyFilterState(
  path: string,
  value: string,
  span: (typeof LifeSpan)[keyof typeof LifeSpan] = LifeSpan.FilterChain,
): void {
  const out: number[] = [];
  if (path) bytesField(out, 1, encodeUtf8(path));
  if (value) bytesField(out, 2, encodeUtf8(value));
  if (span !== LifeSpan.FilterChain) {
    varint(out, 3 << 3);
    varint(out, span);
  }
  callForeignFunction("set_envoy_filter_state", new Uint8Array(out));
}

/** Makes Envoy choose the route again after headers that routing reads changed. */
export function clearRouteCache(): void {
  callForeignFunction("clear_route_cache");
}
