/** Envoy attributes (`proxy_get_property` / `proxy_set_property`): a path of segments, a byte value. */

import { expectOk, hostcall, Status, statusOf } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { decodeUtf8, encodeUtf8 } from "./text-encoding.ts";

/** A property path as the ABI takes it: segments joined by NUL. */
function encodePath(path: string | readonly string[]): string {
  return typeof path === "string" ? path.split(".").join("\0") : path.join("\0");
}

/** The raw bytes of a property (`["request", "path"]` or `"request.path"`), or null when absent. */
export function getProperty(path: string | readonly string[]): Uint8Array | null {
  const result = hostcall(HostOp.GetProperty, encodePath(path));
  return statusOf(result) === Status.Ok ? new Uint8Array(result as ArrayBuffer) : null;
}

/** A string property, or null when absent. */
export function getPropertyText(path: string | readonly string[]): string | null {
  const bytes = getProperty(path);
  return bytes === null ? null : decodeUtf8(bytes);
}

/** An integer property (Envoy encodes them as 8 little-endian bytes), or null when absent. */
export function getPropertyNumber(path: string | readonly string[]): number | null {
  const bytes = getProperty(path);
  if (bytes === null || bytes.length !== 8) return null;
  return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true));
}

/** Sets a property (Envoy stores it as filter state `wasm.<path>`). */
export function setProperty(path: string | readonly string[], value: string | Uint8Array): void {
  const bytes = typeof value === "string" ? encodeUtf8(value) : value;
  expectOk("set property", hostcall(HostOp.SetProperty, encodePath(path), bytes.slice().buffer));
}
