// One observed API call and its JSON form, matching services/ingestion's event schema exactly
// (`ApiEventInput` in services/ingestion/src/api-event.ts): seed 003's metadata/request/response/
// source/destination/protocol plus method, path, status, latency_ms and timestamp_ms. The service
// refuses a whole batch for one invalid event, so every limit it checks is respected here.

import { asciiLowerCase, isValidUtf8, JsonWriter } from "@proxy-wasm-ts/sdk/assembly";
import { encodeBase64 } from "./body-encoding";
import { SecretFields, isSecretHeader, redactFields, redactPath, REDACTED } from "./redaction";
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

/** Headers as the event carries them: one entry per name (repeats joined with ","), secrets redacted. */
export class CapturedHeaders {
  names: Array<string>;
  values: Array<string>;
  /** The first `:path` as it came, before its query secrets were redacted; null when there was none. */
  rawPath: string | null = null;

  /** `capacity`: entries expected, so the lists are allocated once rather than grown while filled. */
  constructor(capacity: i32 = 0) {
    this.names = emptyWithRoom(capacity);
    this.values = emptyWithRoom(capacity);
  }

  /**
   * Captures `entries` (`HeaderMap.getAllText()`: name, value, name, value, ...) without Envoy's internal
   * `x-envoy-*` headers.
   */
  static from(entries: Array<string>, secretHeaders: Array<string>, fields: SecretFields): CapturedHeaders {
    const captured = new CapturedHeaders(min(entries.length >> 1, MAX_HEADERS));
    for (let i = 0; i + 1 < entries.length; i += 2) {
      // Header names are HTTP tokens (ASCII); Envoy hands them over lower-case already, so this rarely copies.
      const name = asciiLowerCase(unchecked(entries[i]));
      if (name.startsWith("x-envoy") || name.length == 0 || name.length > MAX_HEADER_NAME_CHARS) continue;
      let value = unchecked(entries[i + 1]);
      if (isSecretHeader(name, secretHeaders)) value = REDACTED;
      else if (name == ":path") {
        if (captured.rawPath === null) captured.rawPath = value;
        value = redactPath(value, fields);
      }
      captured.add(name, value);
    }
    return captured;
  }

  private add(name: string, value: string): void {
    const at = this.names.indexOf(name);
    if (at >= 0) {
      // Past the limit nothing more is kept, so many repeats cost nothing.
      if (this.values[at].length >= MAX_HEADER_VALUE_CHARS) return;
      this.values[at] = clip(this.values[at] + "," + value, MAX_HEADER_VALUE_CHARS);
      return;
    }
    if (this.names.length >= MAX_HEADERS) return;
    this.names.push(name);
    this.values.push(clip(value, MAX_HEADER_VALUE_CHARS));
  }

  /** Adds every entry of `other` (e.g. trailers), joined with "," to a name already present. */
  merge(other: CapturedHeaders): void {
    for (let i = 0; i < other.names.length; i++) this.add(other.names[i], other.values[i]);
  }

  get(name: string): string | null {
    const at = this.names.indexOf(name);
    return at >= 0 ? this.values[at] : null;
  }

  write(json: JsonWriter): void {
    json.beginObject();
    for (let i = 0; i < this.names.length; i++) json.key(this.names[i]).string(this.values[i]);
    json.endObject();
  }
}

/** An empty list with room for `capacity` entries (Array keeps its buffer when its length drops). */
function emptyWithRoom(capacity: i32): Array<string> {
  const list = new Array<string>(capacity);
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
    json.key("name").string(clip(this.name, MAX_SHORT_CHARS));
    json.key("namespace").string(clip(this.namespace, MAX_SHORT_CHARS));
    json.key("ip").string(this.address.ip);
    json.key("port").integer(this.address.port);
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
    json.key("metadata").beginObject();
    json.key("context_id").integer(this.contextId);
    if (this.timestampNs >= 1_000_000_000) json.key("timestamp").integer(<i64>(this.timestampNs / 1_000_000_000));
    json.key("traffic_source_name").string(clip(this.trafficSourceName, MAX_SHORT_CHARS));
    if (this.nodeName.length > 0) json.key("node_name").string(clip(this.nodeName, MAX_SHORT_CHARS));
    if (this.meshId.length > 0) json.key("mesh_id").string(clip(this.meshId, MAX_SHORT_CHARS));
    json.endObject();
    json.key("request").beginObject();
    json.key("headers");
    this.requestHeaders.write(json);
    writeBody(json, redactFields(this.requestBody, fields), this.grpc);
    json.endObject();
    json.key("response").beginObject();
    json.key("headers");
    this.responseHeaders.write(json);
    writeBody(json, redactFields(this.responseBody, fields), this.grpc);
    json.endObject();
    json.key("source");
    this.source.write(json);
    json.key("destination");
    this.destination.write(json);
    json.key("protocol").string(clip(this.protocol, MAX_SHORT_CHARS));
    json.key("method").string(this.method);
    json.key("path").string(clip(redactPath(this.path, fields), MAX_PATH_CHARS));
    json.key("status").integer(this.status);
    // Whole microseconds, as the service stores them.
    if (this.latencyNs >= 0) json.key("latency_ms").number(<f64>(this.latencyNs / 1000) / 1000.0);
    if (this.timestampNs >= 1_000_000) json.key("timestamp_ms").integer(<i64>(this.timestampNs / 1_000_000));
    json.endObject();
    return json.toBytes();
  }
}

function writeBody(json: JsonWriter, body: Uint8Array, binary: bool): void {
  if (body.length == 0) return;
  // gRPC frames (a 5-byte prefix, then protobuf) are binary even when their bytes happen to be UTF-8.
  if (!binary && isValidUtf8(body)) json.key("body").utf8String(body);
  else json.key("body_base64").string(encodeBase64(body));
}
