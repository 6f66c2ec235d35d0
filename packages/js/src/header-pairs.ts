/** The ABI's header-map serialization: count, then each key/value length, then NUL-terminated bytes. */
import { encodeUtf8 } from "./text-encoding.ts";

/** Header name/value pairs in order; a name may repeat. */
export type HeaderList = Array<[string, string]>;
/** Headers as a caller may give them. */
export type HeadersInit = HeaderList | Record<string, string | readonly string[]>;

/** Normalizes HeadersInit to a list. */
export function toHeaderList(init: HeadersInit | undefined): HeaderList {
  if (init === undefined) return [];
  if (Array.isArray(init)) return init;
  const list: HeaderList = [];
  for (const [name, value] of Object.entries(init)) {
    if (typeof value === "string") list.push([name, value]);
    else for (const one of value) list.push([name, one]);
  }
  return list;
}

/** Serializes pairs for proxy_set_header_map_pairs, proxy_http_call, proxy_send_local_response. */
export function serializePairs(pairs: HeaderList): ArrayBuffer {
  const encoded = pairs.map(([k, v]) => [encodeUtf8(k), encodeUtf8(v)] as const);
  let size = 4 + encoded.length * 8;
  for (const [k, v] of encoded) size += k.length + v.length + 2;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, encoded.length, true);
  let at = 4 + encoded.length * 8;
  encoded.forEach(([k, v], i) => {
    view.setUint32(4 + i * 8, k.length, true);
    view.setUint32(8 + i * 8, v.length, true);
    bytes.set(k, at);
    at += k.length + 1;
    bytes.set(v, at);
    at += v.length + 1;
  });
  return bytes.buffer;
}

/** The glue's flat [k0, v0, k1, v1, ...] as pairs. */
export function fromFlat(flat: string[]): HeaderList {
  const pairs: HeaderList = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  return pairs;
}
