// Properties (Envoy "attributes"): paths are lists of segments, values are bytes in Envoy's encodings.

import { proxy_get_property, proxy_set_property } from "./abi/imports";
import { Status } from "./abi/types";
import { toBytes, toText } from "./bytes";
import { HeaderList, deserializePairs } from "./headers";
import { RETURN_DATA, RETURN_SIZE, clearReturnSlots, setLastStatus, takeReturnedBytes } from "./memory";
import { SCRATCH, SCRATCH_SIZE } from "./scratch";

/** Encodes a property path: segments joined by NUL, as Envoy and every SDK expect. */
export function encodePath(path: Array<string>): ArrayBuffer {
  let size = 0;
  const parts = new Array<ArrayBuffer>(path.length);
  for (let i = 0; i < path.length; i++) {
    const part = toBytes(unchecked(path[i]));
    unchecked((parts[i] = part));
    size += part.byteLength + (i > 0 ? 1 : 0);
  }
  const out = new ArrayBuffer(size);
  let at = changetype<usize>(out);
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) {
      store<u8>(at, 0);
      at++;
    }
    const part = unchecked(parts[i]);
    memory.copy(at, changetype<usize>(part), <usize>part.byteLength);
    at += <usize>part.byteLength;
  }
  return out;
}

/** Raw value of the property at `path` (e.g. `["source", "address"]`), or null when absent. */
export function getProperty(path: Array<string>): ArrayBuffer | null {
  // The path goes to the scratch area (scratch.ts) when it fits, not to a fresh buffer per read (a UTF-8
  // copy of each segment and the joined path). Worst case: 3 bytes per UTF-16 unit (a surrogate pair
  // makes 4 from 2 units) and a NUL after each segment.
  let bound = 0;
  for (let i = 0; i < path.length; i++) bound += unchecked(path[i]).length * 3 + 1;
  if (bound > SCRATCH_SIZE) {
    const encoded = encodePath(path);
    return fetchProperty(changetype<usize>(encoded), <usize>encoded.byteLength);
  }
  let size: usize = 0;
  for (let i = 0; i < path.length; i++) {
    if (i > 0) store<u8>(SCRATCH + size++, 0);
    const part = unchecked(path[i]);
    size += String.UTF8.encodeUnsafe(changetype<usize>(part), part.length, SCRATCH + size);
  }
  return fetchProperty(SCRATCH, size);
}

/**
 * The property at `path`, its segments joined by NUL (`"source\0address"`): a constant path is then one
 * static string, so the SDK's attribute getters allocate nothing for the path (an array literal is a
 * fresh array on every call). @internal
 */
export function getPropertyJoined(path: string): ArrayBuffer | null {
  if (path.length * 3 > SCRATCH_SIZE) {
    const encoded = String.UTF8.encode(path);
    return fetchProperty(changetype<usize>(encoded), <usize>encoded.byteLength);
  }
  return fetchProperty(SCRATCH, String.UTF8.encodeUnsafe(changetype<usize>(path), path.length, SCRATCH));
}

function fetchProperty(pathPtr: usize, pathSize: usize): ArrayBuffer | null {
  clearReturnSlots();
  const s = setLastStatus(proxy_get_property(pathPtr, pathSize, RETURN_DATA, RETURN_SIZE));
  const value = takeReturnedBytes();
  return s == Status.Ok ? value : null;
}

/** An 8-byte little-endian integer value, or `fallback` when absent or not 8 bytes. @internal */
export function intValue(value: ArrayBuffer | null, fallback: i64): i64 {
  if (value === null || value.byteLength != 8) return fallback;
  return load<i64>(changetype<usize>(value));
}

/** A string property, or null when absent. */
export function getPropertyText(path: Array<string>): string | null {
  const value = getProperty(path);
  return value === null ? null : toText(value);
}

/** An int/uint/timestamp/duration property (8 bytes little-endian), or `fallback` when absent or not 8 bytes. */
export function getPropertyInt(path: Array<string>, fallback: i64 = -1): i64 {
  return intValue(getProperty(path), fallback);
}

/** A bool property (1 byte), or `fallback` when absent. */
export function getPropertyBool(path: Array<string>, fallback: bool = false): bool {
  const value = getProperty(path);
  if (value === null || value.byteLength != 1) return fallback;
  return load<u8>(changetype<usize>(value)) != 0;
}

/** A map property (e.g. `request.headers`) decoded from the pair encoding, or null. */
export function getPropertyMap(path: Array<string>): HeaderList | null {
  const value = getProperty(path);
  return value === null ? null : deserializePairs(value);
}

/**
 * Sets a property. On Envoy the value lands in filter state under `wasm.` + path, readable by other
 * plugins and by access logs as `%FILTER_STATE(wasm.<path>)%`.
 */
export function setProperty(path: Array<string>, value: ArrayBuffer): Status {
  const encoded = encodePath(path);
  return setLastStatus(
    proxy_set_property(changetype<usize>(encoded), encoded.byteLength, changetype<usize>(value), value.byteLength),
  );
}

/** Sets a property to UTF-8 text. */
export function setPropertyText(path: Array<string>, value: string): Status {
  return setProperty(path, toBytes(value));
}
