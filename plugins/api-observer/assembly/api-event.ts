// One observed API call and its JSON form, matching services/ingestion's event schema exactly
// (`ApiEventInput` in services/ingestion/src/api-event.ts): seed 003's metadata/request/response/
// source/destination/protocol plus method, path, status, latency_ms and timestamp_ms. The service
// refuses a whole batch for one invalid event, so every limit it checks is respected here.

import { asciiLowerCase, isValidUtf8, JsonKey, JsonWriter, SerializedHeaders } from "@proxy-wasm-ts/sdk/assembly";
import { encodeBase64 } from "./body-encoding";
import { SecretFields, bytesAre, isSecretHeader, isSecretHeaderAt, redactFields, redactPath, REDACTED } from "./redaction";
import { HostPort } from "./workload-address";

// services/ingestion EVENT_LIMITS.
const MAX_HEADERS = 256;
const MAX_HEADER_NAME_CHARS = 256;
const MAX_HEADER_VALUE_CHARS = 16_384;
const MAX_PATH_CHARS = 8_192;
const MAX_SHORT_CHARS = 1_024;

function clip(text: string, limit: i32): string {
  if (text.length <= limit) return text;
  // Never split a surrogate pair: half of one is not valid UTF-8, and the service reads strict UTF-8.
  const last = text.charCodeAt(limit - 1);
  return text.substring(0, last >= 0xd800 && last <= 0xdbff ? limit - 1 : limit);
}

const X_ENVOY = "x-envoy";
const PATH = ":path";

// The event's fixed keys, encoded once (`JsonWriter.field`): re-encoding them per event was a sixth of
// writing it.
const K_BODY = new JsonKey("body");
const K_BODY_BASE64 = new JsonKey("body_base64");
const K_CONTEXT_ID = new JsonKey("context_id");
const K_DESTINATION = new JsonKey("destination");
const K_HEADERS = new JsonKey("headers");
const K_IP = new JsonKey("ip");
const K_LATENCY_MS = new JsonKey("latency_ms");
const K_MESH_ID = new JsonKey("mesh_id");
const K_METADATA = new JsonKey("metadata");
const K_METHOD = new JsonKey("method");
const K_NAME = new JsonKey("name");
const K_NAMESPACE = new JsonKey("namespace");
const K_NODE_NAME = new JsonKey("node_name");
const K_PATH = new JsonKey("path");
const K_PORT = new JsonKey("port");
const K_PROTOCOL = new JsonKey("protocol");
const K_REQUEST = new JsonKey("request");
const K_RESPONSE = new JsonKey("response");
const K_SOURCE = new JsonKey("source");
const K_STATUS = new JsonKey("status");
const K_TIMESTAMP = new JsonKey("timestamp");
const K_TIMESTAMP_MS = new JsonKey("timestamp_ms");
const K_TRAFFIC_SOURCE_NAME = new JsonKey("traffic_source_name");

/** True when the `size` bytes at `ptr` start with `prefix` (ASCII). */
function bytesStartWith(ptr: usize, size: i32, prefix: string): bool {
  return size >= prefix.length && bytesAre(ptr, prefix.length, prefix);
}

/** True when a name can be written as it came: ASCII with no upper-case letter (what Envoy hands over). */
function isLowerAscii(ptr: usize, size: i32): bool {
  for (let i = 0; i < size; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (c >= 0x80 || (c >= 65 && c <= 90)) return false;
  }
  return true;
}

/**
 * Headers as the event carries them: one entry per name (repeats joined with ","), secrets redacted.
 * Entries point into the host's serialized maps (`SerializedHeaders`) and are written to JSON from those
 * bytes: decoding every header to a string and encoding it again was a fifth of api-observer's cost. Only
 * what the event changes is held as text: a redacted value, a redacted `:path`, a joined repeat, an
 * over-long value, and a name that is not plain lower-case ASCII.
 */
export class CapturedHeaders {
  /** Per entry: the map it came from and its index there (trailers merged in come from another map). */
  private maps: Array<SerializedHeaders>;
  private indexes: Array<i32>;
  /** Per entry: the name as text when it differs from its bytes (lower-cased), else null. */
  private names: Array<string | null>;
  /** Per entry: the value as text when the event changes it, else null (its bytes are written). */
  private values: Array<string | null>;
  /** The first `:path` as it came, before its query secrets were redacted; null when there was none. */
  rawPath: string | null = null;

  /** `capacity`: entries expected, so the lists are allocated once rather than grown while filled. */
  constructor(capacity: i32 = 0) {
    this.maps = emptyWithRoom<SerializedHeaders>(capacity);
    this.indexes = emptyWithRoom<i32>(capacity);
    this.names = emptyWithRoom<string | null>(capacity);
    this.values = emptyWithRoom<string | null>(capacity);
  }

  /** Number of entries. */
  get length(): i32 {
    return this.indexes.length;
  }

  /** Captures `map` (`HeaderMap.getAllSerialized()`) without Envoy's internal `x-envoy-*` headers. */
  static from(map: SerializedHeaders, secretHeaders: Array<string>, fields: SecretFields): CapturedHeaders {
    const captured = new CapturedHeaders(min(map.length, MAX_HEADERS));
    for (let i = 0; i < map.length; i++) {
      const ptr = map.namePtr(i);
      const size = map.nameSize(i);
      let isPath = false;
      let name: string | null = null;
      let secret = false;
      if (isLowerAscii(ptr, size)) {
        if (size == 0 || size > MAX_HEADER_NAME_CHARS || bytesStartWith(ptr, size, X_ENVOY)) continue;
        secret = isSecretHeaderAt(ptr, size, secretHeaders);
        isPath = !secret && bytesAre(ptr, size, PATH);
      } else {
        // Not what Envoy hands over (its header names are lower-case tokens), so the rare slow way: as text.
        const text = asciiLowerCase(map.nameText(i));
        if (text.startsWith(X_ENVOY) || text.length == 0 || text.length > MAX_HEADER_NAME_CHARS) continue;
        name = text;
        secret = isSecretHeader(text, secretHeaders);
        isPath = !secret && text == PATH;
      }
      let value: string | null = null;
      if (secret) value = REDACTED;
      else if (isPath) {
        const path = map.valueText(i);
        if (captured.rawPath === null) captured.rawPath = path;
        value = redactPath(path, fields);
      } else if (map.valueSize(i) > MAX_HEADER_VALUE_CHARS) {
        // Over the limit in bytes may still be within it in characters: decode, then clip.
        value = clip(map.valueText(i), MAX_HEADER_VALUE_CHARS);
      }
      captured.add(map, i, name, value);
    }
    return captured;
  }

  private nameOf(k: i32): string {
    const name = unchecked(this.names[k]);
    return name !== null ? name : unchecked(this.maps[k]).nameText(unchecked(this.indexes[k]));
  }

  private valueOf(k: i32): string {
    const value = unchecked(this.values[k]);
    return value !== null ? value : unchecked(this.maps[k]).valueText(unchecked(this.indexes[k]));
  }

  /** The entry named like `map`'s entry `i` (its text name `name` when not null), or -1. */
  private find(map: SerializedHeaders, i: i32, name: string | null): i32 {
    for (let k = 0; k < this.indexes.length; k++) {
      if (name === null && unchecked(this.names[k]) === null) {
        const other = unchecked(this.maps[k]);
        const j = unchecked(this.indexes[k]);
        const size = map.nameSize(i);
        if (other.nameSize(j) == size && memory.compare(other.namePtr(j), map.namePtr(i), <usize>size) == 0) return k;
      } else if (this.nameOf(k) == (name !== null ? name : map.nameText(i))) return k;
    }
    return -1;
  }

  private add(map: SerializedHeaders, i: i32, name: string | null, value: string | null): void {
    const at = this.find(map, i, name);
    if (at >= 0) {
      const current = this.valueOf(at);
      // Past the limit nothing more is kept, so many repeats cost nothing.
      if (current.length >= MAX_HEADER_VALUE_CHARS) return;
      const added = value !== null ? value : map.valueText(i);
      this.values[at] = clip(current + "," + added, MAX_HEADER_VALUE_CHARS);
      return;
    }
    if (this.indexes.length >= MAX_HEADERS) return;
    this.maps.push(map);
    this.indexes.push(i);
    this.names.push(name);
    this.values.push(value);
  }

  /** Adds every entry of `other` (e.g. trailers), joined with "," to a name already present. */
  merge(other: CapturedHeaders): void {
    for (let k = 0; k < other.indexes.length; k++) {
      this.add(unchecked(other.maps[k]), unchecked(other.indexes[k]), unchecked(other.names[k]), unchecked(other.values[k]));
    }
  }

  /** The value of `name` (lower-case), or null. */
  get(name: string): string | null {
    for (let k = 0; k < this.indexes.length; k++) {
      const text = unchecked(this.names[k]);
      const map = unchecked(this.maps[k]);
      const i = unchecked(this.indexes[k]);
      if (text !== null ? text == name : bytesAre(map.namePtr(i), map.nameSize(i), name)) return this.valueOf(k);
    }
    return null;
  }

  write(json: JsonWriter): void {
    json.beginObject();
    for (let k = 0; k < this.indexes.length; k++) {
      const map = unchecked(this.maps[k]);
      const i = unchecked(this.indexes[k]);
      const name = unchecked(this.names[k]);
      if (name !== null) json.key(name);
      else json.keyUtf8At(map.namePtr(i), map.nameSize(i));
      const value = unchecked(this.values[k]);
      if (value !== null) json.string(value);
      else json.stringUtf8At(map.valuePtr(i), map.valueSize(i));
    }
    json.endObject();
  }
}

/** An empty list with room for `capacity` entries (Array keeps its buffer when its length drops). */
function emptyWithRoom<T>(capacity: i32): Array<T> {
  const list = new Array<T>(capacity);
  list.length = 0;
  return list;
}

/** A workload (source or destination of the call). */
export class Workload {
  constructor(
    readonly name: string,
    readonly namespace: string,
    readonly address: HostPort,
  ) {}

  write(json: JsonWriter): void {
    json.beginObject();
    json.field(K_NAME).string(clip(this.name, MAX_SHORT_CHARS));
    json.field(K_NAMESPACE).string(clip(this.namespace, MAX_SHORT_CHARS));
    json.field(K_IP).string(this.address.ip);
    json.field(K_PORT).integer(this.address.port);
    json.endObject();
  }
}

/** No headers captured (yet). Shared: never merged into (see ObservedStream.onResponseTrailers). */
export const NO_HEADERS = new CapturedHeaders();
const NO_BODY = new Uint8Array(0);
const NO_WORKLOAD = new Workload("", "", new HostPort("", 0));

/** True for an HTTP method token (RFC 9110 tchar, 1 to 32 characters). */
export function isMethodToken(method: string): bool {
  if (method.length == 0 || method.length > 32) return false;
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && "!#$%&'*+.^_`|~-".indexOf(String.fromCharCode(c)) < 0) return false;
  }
  return true;
}

export class ApiEvent {
  contextId: u32 = 0;
  timestampNs: u64 = 0;
  latencyNs: i64 = -1;
  method: string = "";
  path: string = "";
  status: i32 = 0;
  protocol: string = "";
  /** A gRPC call: its bodies are binary frames, recorded as base64 whatever their bytes. */
  grpc: bool = false;
  // Shared empty stand-ins until a phase fills the event in: one event per request, and fresh defaults here
  // were a dozen allocations per request thrown away.
  requestHeaders: CapturedHeaders = NO_HEADERS;
  responseHeaders: CapturedHeaders = NO_HEADERS;
  requestBody: Uint8Array = NO_BODY;
  responseBody: Uint8Array = NO_BODY;
  source: Workload = NO_WORKLOAD;
  destination: Workload = NO_WORKLOAD;
  trafficSourceName: string = "";
  nodeName: string = "";
  meshId: string = "";

  /** Why the ingestion service would refuse this event, or "" when it is valid. */
  problem(): string {
    if (!isMethodToken(this.method)) return "no HTTP method token";
    if (!this.path.startsWith("/") && this.path != "*") return "no origin-form :path";
    return "";
  }

  /**
   * The event as UTF-8 JSON. `fields` redacts the bodies. `json` is emptied and written into (a writer the
   * root keeps, so no request allocates a fresh 4 KiB buffer); the result is a copy of what it holds.
   */
  toJson(fields: SecretFields, json: JsonWriter): ArrayBuffer {
    json.reset().beginObject();
    json.field(K_METADATA).beginObject();
    json.field(K_CONTEXT_ID).integer(this.contextId);
    if (this.timestampNs >= 1_000_000_000) json.field(K_TIMESTAMP).integer(<i64>(this.timestampNs / 1_000_000_000));
    json.field(K_TRAFFIC_SOURCE_NAME).string(clip(this.trafficSourceName, MAX_SHORT_CHARS));
    if (this.nodeName.length > 0) json.field(K_NODE_NAME).string(clip(this.nodeName, MAX_SHORT_CHARS));
    if (this.meshId.length > 0) json.field(K_MESH_ID).string(clip(this.meshId, MAX_SHORT_CHARS));
    json.endObject();
    json.field(K_REQUEST).beginObject();
    json.field(K_HEADERS);
    this.requestHeaders.write(json);
    writeBody(json, redactFields(this.requestBody, fields), this.grpc);
    json.endObject();
    json.field(K_RESPONSE).beginObject();
    json.field(K_HEADERS);
    this.responseHeaders.write(json);
    writeBody(json, redactFields(this.responseBody, fields), this.grpc);
    json.endObject();
    json.field(K_SOURCE);
    this.source.write(json);
    json.field(K_DESTINATION);
    this.destination.write(json);
    json.field(K_PROTOCOL).string(clip(this.protocol, MAX_SHORT_CHARS));
    json.field(K_METHOD).string(this.method);
    json.field(K_PATH).string(clip(redactPath(this.path, fields), MAX_PATH_CHARS));
    json.field(K_STATUS).integer(this.status);
    // Whole microseconds, as the service stores them.
    if (this.latencyNs >= 0) json.field(K_LATENCY_MS).number(<f64>(this.latencyNs / 1000) / 1000.0);
    if (this.timestampNs >= 1_000_000) json.field(K_TIMESTAMP_MS).integer(<i64>(this.timestampNs / 1_000_000));
    json.endObject();
    return json.toBytes();
  }
}

function writeBody(json: JsonWriter, body: Uint8Array, binary: bool): void {
  if (body.length == 0) return;
  // gRPC frames (a 5-byte prefix, then protobuf) are binary even when their bytes happen to be UTF-8.
  if (!binary && isValidUtf8(body)) json.field(K_BODY).utf8String(body);
  else json.field(K_BODY_BASE64).string(encodeBase64(body));
}
