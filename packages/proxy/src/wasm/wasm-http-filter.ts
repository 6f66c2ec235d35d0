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
  latin1String,
  type Plugin,
} from "@proxy-wasm-ts/host";
import type { HeaderList } from "../http/header-list.ts";
import type { BodyBuffer, FilterStatus, HttpFilter, HttpFilterCallbacks } from "../http/http-filter.ts";
import { drainedBuffer } from "./drained-buffer.ts";
import { streamProperties } from "./stream-properties.ts";

/**
 * The plugin's header map is a view of the list the data plane forwards (names are lower-case there, as
 * the view needs), so edits land in the list itself, and the plugin sees later router edits, as with
 * Envoy's shared header map. Node's parser hands header text over as latin1 (one char per byte), so the
 * plugin sees, and the data plane forwards, exactly the bytes on the wire. A few hostcalls (replacing or
 * clearing the whole map) detach the map from the list; this copies the result back then.
 */
function syncHeaders(target: HeaderList | undefined, source: HeaderMap | null): void {
  if (target && source?.modified) source.copyLatin1Into(target);
}

function status(action: Action): FilterStatus {
  return action === Action.Continue ? "continue" : "stop";
}

/** Also the host stream's event handler: methods, not per-request closures. */
export class WasmHttpFilter implements HttpFilter, HttpStreamEvents {
  private readonly stream: HttpStream;
  private readonly name: string;
  private requestHeaderList: HeaderList | undefined;
  private responseHeaderList: HeaderList | undefined;
  private done = false;
  /**
   * The plugin saw the request headers (Envoy creates the VM context in Context::decodeHeaders, onCreate).
   * context.cc encodeHeaders / encodeData / encodeTrailers return Continue without entering the VM when it
   * never did: a local reply an earlier filter sent passes by this one.
   */
  private started = false;

  constructor(
    plugin: Plugin,
    private readonly cb: HttpFilterCallbacks,
  ) {
    this.stream = plugin.newHttpStream({ properties: streamProperties(cb.streamInfo, cb), events: this });
    this.name = plugin.config.name;
  }

  /** After a callback that may have edited a direction's headers: let the stream check what the plugin set. */
  private edited(
    direction: "request" | "response",
    list: HeaderList | undefined,
    map: HeaderMap | null,
  ): void {
    if (list && map?.modified) this.cb.headersEdited?.(direction, this.name, list);
  }

  // Resumes are deferred: the host reports one before it releases the buffered bytes.
  onResumeRequest(): void {
    queueMicrotask(() => {
      syncHeaders(this.requestHeaderList, this.stream.request.headers);
      this.edited("request", this.requestHeaderList, this.stream.request.headers);
      this.cb.continueDecoding();
    });
  }

  onResumeResponse(): void {
    queueMicrotask(() => {
      syncHeaders(this.responseHeaderList, this.stream.response.headers);
      this.edited("response", this.responseHeaderList, this.stream.response.headers);
      this.cb.continueEncoding();
    });
  }

  onLocalReply(reply: LocalReply): void {
    const headers: HeaderList = reply.headers.map(([n, v]) => [
      latin1String(n).toLowerCase(),
      latin1String(v),
    ]);
    if (headers.length > 0) this.cb.headersEdited?.("response", this.name, headers);
    this.cb.sendLocalReply(reply.statusCode, reply.body, headers, reply.details, reply.grpcStatus);
  }

  onReset(): void {
    this.cb.resetStream();
  }

  onClearRouteCache(): void {
    this.cb.clearRouteCache();
  }

  decodeHeaders(headers: HeaderList, endStream: boolean): FilterStatus {
    this.started = true;
    this.requestHeaderList = headers;
    const action = this.stream.requestHeaders(HeaderMap.latin1View(headers), endStream);
    syncHeaders(headers, this.stream.request.headers);
    this.edited("request", headers, this.stream.request.headers);
    return status(action);
  }

  decodeData(body: BodyBuffer, endStream: boolean): FilterStatus {
    const action = this.stream.requestBody(body.data, endStream);
    if (action === Action.Continue) body.data = drainedBuffer(this.stream.drainRequestBody());
    return status(action);
  }

  drainDecoded(): Buffer {
    return drainedBuffer(this.stream.drainRequestBody());
  }

  /** `proxy_on_request_trailers`: the plugin sees and may edit the list the data plane forwards. */
  decodeTrailers(trailers: HeaderList): FilterStatus {
    const action = this.stream.requestTrailers(HeaderMap.latin1View(trailers));
    syncHeaders(trailers, this.stream.request.trailers);
    return status(action);
  }

  /**
   * The plugin's own local reply comes back through its response callbacks, as in Envoy (the reply runs the
   * whole encoder chain: filter_manager.cc sendLocalReplyViaFilterChain), and they return what the plugin
   * says (the host stops only the callback that sent the reply, as cpp-host does). A stream its failure
   * policy answered is not shown that reply (context.cc encodeHeaders, failure_local_reply_sent_).
   */
  encodeHeaders(headers: HeaderList, endStream: boolean): FilterStatus {
    if (!this.started || this.stream.mode !== "ok") return "continue";
    this.responseHeaderList = headers;
    const action = this.stream.responseHeaders(HeaderMap.latin1View(headers), endStream);
    syncHeaders(headers, this.stream.response.headers);
    this.edited("response", headers, this.stream.response.headers);
    return status(action);
  }

  encodeData(body: BodyBuffer, endStream: boolean): FilterStatus {
    if (!this.started || (this.stream.mode !== "ok" && this.stream.mode !== "fail-open")) return "continue";
    const action = this.stream.responseBody(body.data, endStream);
    if (action === Action.Continue) body.data = drainedBuffer(this.stream.drainResponseBody());
    return status(action);
  }

  drainEncoded(): Buffer {
    return drainedBuffer(this.stream.drainResponseBody());
  }

  /** `proxy_on_response_trailers`. */
  encodeTrailers(trailers: HeaderList): FilterStatus {
    if (!this.started || (this.stream.mode !== "ok" && this.stream.mode !== "fail-open")) return "continue";
    const action = this.stream.responseTrailers(HeaderMap.latin1View(trailers));
    syncHeaders(trailers, this.stream.response.trailers);
    return status(action);
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
