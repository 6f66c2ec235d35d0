/**
 * An `envoy.filters.http.wasm` filter instance for one request: adapts the data plane's filter contract to
 * the host's HttpStream (one stream context per request per plugin).
 */
import {
  Action,
  HeaderMap,
  type HttpStream,
  type HttpStreamEvents,
  type LocalReply,
  type Plugin,
} from "@proxy-wasm-ts/host";
import type { HeaderList } from "../http/header-list.ts";
import type { BodyBuffer, FilterStatus, HttpFilter, HttpFilterCallbacks } from "../http/http-filter.ts";
import { streamProperties } from "./stream-properties.ts";

/** Header names seen so far as bytes (names repeat on every request; bounded so hostile names cannot grow it). */
const nameBytes = new Map<string, Uint8Array>();
const MAX_CACHED_NAMES = 1024;

/**
 * The data plane's header list as the host's byte map. Node's parser hands header text over as latin1 (one
 * char per byte), so latin1 both ways gives the plugin exactly the bytes on the wire, whatever they are.
 */
function toHeaderMap(list: HeaderList): HeaderMap {
  const map = new HeaderMap();
  for (const [name, value] of list) {
    let n = nameBytes.get(name);
    if (!n) {
      n = Buffer.from(name, "latin1");
      if (nameBytes.size < MAX_CACHED_NAMES) nameBytes.set(name, n);
    }
    map.names.push(n);
    map.values.push(Buffer.from(value, "latin1"));
  }
  return map;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** Copies the plugin's view of a header map back into the list the data plane forwards. */
function syncHeaders(target: HeaderList | undefined, source: HeaderMap | null): void {
  if (!target || !source) return;
  target.length = 0;
  for (let i = 0; i < source.names.length; i++)
    target.push([latin1(source.names[i]!), latin1(source.values[i]!)]);
}

/** True when the plugin left the map as given (same entries, same byte arrays): no copy back needed. */
function unchanged(given: HeaderMap, now: HeaderMap | null): boolean {
  if (!now || now.names.length !== given.names.length) return false;
  for (let i = 0; i < given.names.length; i++) {
    if (now.names[i] !== given.names[i] || now.values[i] !== given.values[i]) return false;
  }
  return true;
}

function status(action: Action): FilterStatus {
  return action === Action.Continue ? "continue" : "stop";
}

/** Also the host stream's event handler: methods, not per-request closures. */
export class WasmHttpFilter implements HttpFilter, HttpStreamEvents {
  private readonly stream: HttpStream;
  private requestHeaderList: HeaderList | undefined;
  private responseHeaderList: HeaderList | undefined;
  private done = false;

  constructor(
    plugin: Plugin,
    private readonly cb: HttpFilterCallbacks,
  ) {
    this.stream = plugin.newHttpStream({ properties: streamProperties(cb.streamInfo, cb), events: this });
  }

  // Resumes are deferred: the host reports one before it releases the buffered bytes.
  onResumeRequest(): void {
    queueMicrotask(() => {
      syncHeaders(this.requestHeaderList, this.stream.request.headers);
      this.cb.continueDecoding();
    });
  }

  onResumeResponse(): void {
    queueMicrotask(() => {
      syncHeaders(this.responseHeaderList, this.stream.response.headers);
      this.cb.continueEncoding();
    });
  }

  onLocalReply(reply: LocalReply): void {
    this.cb.sendLocalReply(
      reply.statusCode,
      reply.body,
      reply.headers.map(([n, v]) => [latin1(n).toLowerCase(), latin1(v)]),
      reply.details,
    );
  }

  onReset(): void {
    this.cb.resetStream();
  }

  onClearRouteCache(): void {
    this.cb.clearRouteCache();
  }

  decodeHeaders(headers: HeaderList, endStream: boolean): FilterStatus {
    this.requestHeaderList = headers;
    const given = toHeaderMap(headers);
    const action = this.stream.requestHeaders(given, endStream);
    if (!unchanged(given, this.stream.request.headers)) syncHeaders(headers, this.stream.request.headers);
    return status(action);
  }

  decodeData(body: BodyBuffer, endStream: boolean): FilterStatus {
    const action = this.stream.requestBody(body.data, endStream);
    if (action === Action.Continue) body.data = Buffer.from(this.stream.drainRequestBody());
    return status(action);
  }

  drainDecoded(): Buffer {
    return Buffer.from(this.stream.drainRequestBody());
  }

  encodeHeaders(headers: HeaderList, endStream: boolean): FilterStatus {
    // A stream the plugin (or its failure policy) already answered is not shown the reply again.
    if (this.stream.localReply || this.stream.mode !== "ok") return "continue";
    this.responseHeaderList = headers;
    const given = toHeaderMap(headers);
    const action = this.stream.responseHeaders(given, endStream);
    if (!unchanged(given, this.stream.response.headers)) syncHeaders(headers, this.stream.response.headers);
    return status(action);
  }

  encodeData(body: BodyBuffer, endStream: boolean): FilterStatus {
    if (this.stream.localReply || (this.stream.mode !== "ok" && this.stream.mode !== "fail-open"))
      return "continue";
    const action = this.stream.responseBody(body.data, endStream);
    if (action === Action.Continue) body.data = Buffer.from(this.stream.drainResponseBody());
    return status(action);
  }

  drainEncoded(): Buffer {
    return Buffer.from(this.stream.drainResponseBody());
  }

  onLog(): void {
    if (this.done) return;
    this.done = true;
    this.stream.complete();
  }

  onDestroy(): void {
    this.onLog();
  }
}
