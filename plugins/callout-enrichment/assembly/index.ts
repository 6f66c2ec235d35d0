// callout-enrichment: pauses each request, asks the metadata service (an Envoy cluster) about it, copies
// a field of the answer into x-meta and resumes. A callout that cannot start, times out, fails or answers
// something unusable resumes the request without the header and counts it: never a hung request.

import {
  Action,
  Counter,
  HeaderList,
  HeaderPair,
  HttpCallResponse,
  HttpContext,
  RootContext,
  logError,
  logInfo,
  logWarn,
  registerRootContext,
  requestHeaders,
} from "@proxy-wasm-ts/sdk/assembly";
import { EnrichmentConfig, parseEnrichmentConfig } from "./enrichment-config";
import { metadataValue } from "./metadata-answer";

export * from "@proxy-wasm-ts/sdk/assembly/exports";

/** Name of the header carrying the client's :authority to the metadata service, encoded once. */
const X_FORWARDED_HOST = String.UTF8.encode("x-forwarded-host");

class CalloutEnrichmentRoot extends RootContext {
  config: EnrichmentConfig = new EnrichmentConfig();
  /** The callout's fixed headers (:method, :path, :authority), encoded once per configuration. */
  calloutHeaders: Array<HeaderPair> = new Array<HeaderPair>();
  /** `field` split at its dots, once per configuration. */
  fieldPath: Array<string> = new Array<string>();
  enriched: Counter | null = null;
  failures: Counter | null = null;

  onConfigure(configuration: ArrayBuffer): bool {
    const config = parseEnrichmentConfig(configuration);
    if (config.error.length > 0) {
      logError("callout-enrichment: bad configuration: " + config.error);
      return false;
    }
    this.config = config;
    this.calloutHeaders = new HeaderList()
      .add(":method", "GET")
      .add(":path", config.path)
      .add(":authority", config.authority).pairs;
    this.fieldPath = config.field.length > 0 ? config.field.split(".") : new Array<string>();
    if (this.enriched === null) {
      this.enriched = new Counter("callout_enrichment_enriched_total");
      this.failures = new Counter("callout_enrichment_failures_total");
    }
    logInfo(
      "callout-enrichment: GET " + config.path + " on cluster " + config.cluster + " (timeout " + config.timeoutMs.toString() +
        " ms) sets " + config.header,
    );
    return true;
  }

  countFailure(reason: string): void {
    logWarn("callout-enrichment: request continues without " + this.config.header + ": " + reason);
    const failures = this.failures;
    if (failures !== null) failures.increment();
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new CalloutEnrichmentStream(contextId, this);
  }
}

class CalloutEnrichmentStream extends HttpContext {
  constructor(
    id: u32,
    readonly plugin: CalloutEnrichmentRoot,
  ) {
    super(id, plugin);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): Action {
    const config = this.plugin.config;
    // Only the metadata service may set this header: drop whatever the client sent.
    requestHeaders.remove(config.header);
    // The fixed pairs are shared, not re-encoded: serializing only reads them.
    const callHeaders = new HeaderList();
    const fixed = this.plugin.calloutHeaders;
    for (let i = 0; i < fixed.length; i++) callHeaders.pairs.push(fixed[i]);
    const host = requestHeaders.getBytes(":authority");
    if (host !== null) callHeaders.addBytes(X_FORWARDED_HOST, host);
    const call = this.httpCall(config.cluster, callHeaders, null, null, config.timeoutMs);
    if (!call.ok) {
      this.plugin.countFailure("callout to cluster " + config.cluster + " could not start (status " + (<i32>call.status).toString() + ")");
      return Action.Continue;
    }
    return Action.Pause;
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    const config = this.plugin.config;
    if (response.failed) {
      this.plugin.countFailure("callout to cluster " + config.cluster + " failed (timeout, reset or no healthy host)");
    } else {
      const status = response.statusCode;
      if (status < 200 || status > 299) {
        this.plugin.countFailure("metadata service answered status " + status.toString());
      } else {
        const meta = metadataValue(response.body(), config.field, this.plugin.fieldPath);
        if (meta.error.length > 0) {
          this.plugin.countFailure(meta.error);
        } else {
          requestHeaders.set(config.header, meta.value);
          const enriched = this.plugin.enriched;
          if (enriched !== null) enriched.increment();
        }
      }
    }
    this.resumeRequest();
  }
}

registerRootContext((contextId: u32): RootContext => new CalloutEnrichmentRoot(contextId));
