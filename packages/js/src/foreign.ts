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

/** Bytes of a base-128 varint. */
function varintSize(value: number): number {
  let size = 1;
  for (; value >= 0x80; size++) value = Math.floor(value / 128);
  return size;
}

/** Writes a base-128 varint at `at`; returns the offset after it. */
function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

/** A length-delimited field (wire type 2): its tag, length and bytes, or nothing when empty (proto3). */
function bytesFieldSize(field: number, bytes: Uint8Array): number {
  return bytes.length === 0 ? 0 : varintSize((field << 3) | 2) + varintSize(bytes.length) + bytes.length;
}

function writeBytesField(out: Uint8Array, at: number, field: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return at;
  at = writeVarint(out, writeVarint(out, at, (field << 3) | 2), bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

const NO_BYTES = new Uint8Array(0);

/**
 * Sets Envoy filter state `path` (e.g. `envoy.tcp_proxy.cluster`) through `set_envoy_filter_state`,
 * whose argument is `SetEnvoyFilterStateArguments { string path = 1; string value = 2; LifeSpan span = 3; }`
 * (proto3: default-valued fields are omitted). Three fields do not justify a protobuf library. The
 * message is sized first and written into one array: byte-wise pushes cost QuickJS about 0.3 µs a byte,
 * most of a TCP routing plugin's connection.
 */
export function setEnvoyFilterState(
  path: string,
  value: string,
  span: (typeof LifeSpan)[keyof typeof LifeSpan] = LifeSpan.FilterChain,
): void {
  const pathBytes = path ? encodeUtf8(path) : NO_BYTES;
  const valueBytes = value ? encodeUtf8(value) : NO_BYTES;
  const spanSize = span === LifeSpan.FilterChain ? 0 : varintSize(3 << 3) + varintSize(span);
  const out = new Uint8Array(bytesFieldSize(1, pathBytes) + bytesFieldSize(2, valueBytes) + spanSize);
  let at = writeBytesField(out, 0, 1, pathBytes);
  at = writeBytesField(out, at, 2, valueBytes);
  if (spanSize > 0) writeVarint(out, writeVarint(out, at, 3 << 3), span);
  callForeignFunction("set_envoy_filter_state", out);
}

/** Makes Envoy choose the route again after headers that routing reads changed. */
export function clearRouteCache(): void {
  callForeignFunction("clear_route_cache");
}
