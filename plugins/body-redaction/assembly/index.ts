// body-redaction: buffers each response body to its end, redacts configured secrets, and sends the
// rewritten body. Envoy forwards response headers before the plugin sees the body, so the plugin drops
// content-length up front (the client then gets chunked framing with the right length) for every body it
// may rewrite. Bodies over max_body_bytes, and compressed ones, pass through untouched, with a log line.

import {
  Action,
  Counter,
  HttpContext,
  LogLevel,
  RootContext,
  getLogLevel,
  log,
  logError,
  logInfo,
  logWarn,
  registerRootContext,
  responseBody,
  responseHeaders,
} from "@proxy-wasm-ts/sdk/assembly";
import { RedactionConfig, parseRedactionConfig } from "./redaction-config";
import { redactSecrets } from "./redactor";

export * from "@proxy-wasm-ts/sdk/assembly/exports";

class BodyRedactionRoot extends RootContext {
  config: RedactionConfig = new RedactionConfig();
  redacted: Counter | null = null;
  passedThrough: Counter | null = null;

  onConfigure(configuration: ArrayBuffer): bool {
    const config = parseRedactionConfig(configuration);
    if (config.error.length > 0) {
      logError("body-redaction: bad configuration: " + config.error);
      return false;
    }
    this.config = config;
    if (this.redacted === null) {
      this.redacted = new Counter("body_redaction_redacted_total");
      this.passedThrough = new Counter("body_redaction_passed_through_total");
    }
    logInfo("body-redaction: redacting " + config.secrets.length.toString() + " secret name(s), bodies up to " + config.maxBodyBytes.toString() + " bytes");
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new BodyRedactionStream(contextId, this);
  }
}

enum BodyMode {
  PassThrough,
  Buffering,
}

class BodyRedactionStream extends HttpContext {
  mode: BodyMode = BodyMode.PassThrough;

  constructor(
    id: u32,
    readonly plugin: BodyRedactionRoot,
  ) {
    super(id, plugin);
  }

  private passThrough(reason: string): void {
    logInfo("body-redaction: response body passed through unredacted: " + reason);
    const counter = this.plugin.passedThrough;
    if (counter !== null) counter.increment();
    this.mode = BodyMode.PassThrough;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): Action {
    if (endOfStream) return Action.Continue;
    const encoding = responseHeaders.get("content-encoding");
    if (encoding !== null && encoding.trim() != "identity") {
      this.passThrough("content-encoding " + encoding + " (cannot search compressed bytes)");
      return Action.Continue;
    }
    const max = this.plugin.config.maxBodyBytes;
    const length = responseHeaders.get("content-length");
    if (length !== null) {
      const declared = parseLength(length);
      if (declared > <i64>max) {
        this.passThrough("content-length " + length + " exceeds max_body_bytes " + max.toString());
        return Action.Continue;
      }
      if (declared == 0) return Action.Continue;
    }
    responseHeaders.remove("content-length");
    this.mode = BodyMode.Buffering;
    return Action.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): Action {
    if (this.mode != BodyMode.Buffering) return Action.Continue;
    const max = this.plugin.config.maxBodyBytes;
    if (bodySize > max) {
      // Release what was buffered, unchanged; the rest streams through.
      this.passThrough("body reached " + bodySize.toString() + " bytes, over max_body_bytes " + max.toString());
      return Action.Continue;
    }
    if (!endOfStream) return Action.Pause;
    this.redactBufferedBody();
    return Action.Continue;
  }

  onResponseTrailers(trailerCount: u32): Action {
    // A body followed by trailers (gRPC, chunked with trailers) never saw endOfStream in onResponseBody.
    if (this.mode == BodyMode.Buffering) this.redactBufferedBody();
    return Action.Continue;
  }

  private redactBufferedBody(): void {
    this.mode = BodyMode.PassThrough;
    const bytes = responseBody.read();
    if (bytes === null) {
      logWarn("body-redaction: the buffered response body is not readable; passed through unredacted");
      return;
    }
    const config = this.plugin.config;
    const result = redactSecrets(Uint8Array.wrap(bytes), config.secrets, config.replacement);
    const rewritten = result.body;
    if (rewritten === null) return;
    responseBody.replace(rewritten);
    const counter = this.plugin.redacted;
    if (counter !== null) counter.increment();
    // A line per redacted body would be a line per request in a sidecar's log at Envoy's default level
    // (info); the counter above counts them. At debug level the line says what was done to this body.
    if (getLogLevel() <= LogLevel.Debug) {
      log(LogLevel.Debug, "body-redaction: redacted " + result.count.toString() + " secret(s) in a " + bytes.byteLength.toString() + "-byte body");
    }
  }
}

/** A content-length value as a number; -1 when it is not a plain decimal (Envoy rejects those anyway). */
function parseLength(value: string): i64 {
  const text = value.trim();
  if (text.length == 0 || text.length > 18) return -1;
  let n: i64 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + <i64>(c - 0x30);
  }
  return n;
}

registerRootContext((contextId: u32): RootContext => new BodyRedactionRoot(contextId));
