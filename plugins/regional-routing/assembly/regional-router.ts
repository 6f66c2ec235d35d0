// The HTTP filter: find the region of the request's host (cache, else an async discovery callout
// with the request paused), put it in the `region` header the route's `cluster_header` reads, make
// Envoy pick the route again, and resume. No region -> fallback region, or a 503 that says why.

import {
  Action,
  Counter,
  HeaderList,
  HttpCallResponse,
  HttpContext,
  LogLevel,
  RootContext,
  Status,
  clearRouteCache,
  currentTimeNanoseconds,
  getLogLevel,
  log,
  logError,
  logInfo,
  logWarn,
  requestHeaders,
  responseHeaders,
} from "@proxy-wasm-ts/sdk/assembly";
import { LookupResult, hostOfAuthority, lookupPath, readLookupAnswer } from "./discovery-lookup";
import { RegionCache } from "./region-cache";
import { RouterConfig, parseRouterConfig } from "./router-config";

const NS_PER_MS: u64 = 1_000_000;

export class RegionalRouterRoot extends RootContext {
  config: RouterConfig = new RouterConfig();
  cache: RegionCache = new RegionCache(0, 0);
  readonly cacheHits: Counter = new Counter("regional_routing_cache_hits_total");
  readonly lookups: Counter = new Counter("regional_routing_lookups_total");
  readonly lookupFailures: Counter = new Counter("regional_routing_lookup_failures_total");
  readonly fallbacks: Counter = new Counter("regional_routing_fallbacks_total");
  readonly rejected: Counter = new Counter("regional_routing_rejected_total");

  onConfigure(configuration: ArrayBuffer): bool {
    const config = parseRouterConfig(configuration);
    if (config.error.length > 0) {
      logError("invalid configuration: " + config.error);
      return false;
    }
    this.config = config;
    this.cache = new RegionCache(config.cacheTtlMs * NS_PER_MS, config.cacheMaxEntries);
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new RegionalRouterStream(contextId, this);
  }
}

class RegionalRouterStream extends HttpContext {
  private host: string = "";

  get router(): RegionalRouterRoot {
    return changetype<RegionalRouterRoot>(this.root);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): Action {
    const router = this.router;
    const authority = requestHeaders.get(":authority");
    let parsed: string | null = null;
    if (authority !== null) parsed = hostOfAuthority(authority);
    if (parsed === null) return this.noRegion("the request has no usable :authority", false);
    const host = parsed!;
    this.host = host;
    const cached = router.cache.fresh(host, currentTimeNanoseconds());
    if (cached !== null) {
      router.cacheHits.increment();
      this.route(cached);
      return Action.Continue;
    }
    const config = router.config;
    const headers = new HeaderList()
      .add(":method", "GET")
      .add(":path", lookupPath(config, host))
      .add(":authority", config.discoveryAuthority)
      .add("accept", "application/json");
    router.lookups.increment();
    const call = this.httpCall(config.discoveryCluster, headers, null, null, config.timeoutMs);
    if (!call.ok) {
      return this.noRegion(`cannot call discovery cluster ${config.discoveryCluster} (status ${call.status})`, false);
    }
    return Action.Pause;
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    const router = this.router;
    const answer: LookupResult = readLookupAnswer(response, router.config);
    const region = answer.region;
    if (region === null) {
      this.noRegion(answer.reason, true);
      return;
    }
    router.cache.put(this.host, region, currentTimeNanoseconds());
    this.route(region);
    this.resumeRequest();
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): Action {
    responseHeaders.set("processed-by", this.router.config.processedBy);
    return Action.Continue;
  }

  private route(region: string): void {
    requestHeaders.set(this.router.config.regionHeader, region);
    // Envoy picked the route before this filter ran; without this it would keep the old cluster.
    const s = clearRouteCache();
    if (s != Status.Ok) logWarn(`clear_route_cache failed (status ${s})`);
    // Built only when the host prints debug lines: a string and a hostcall per request otherwise dropped.
    if (getLogLevel() <= LogLevel.Debug) log(LogLevel.Debug, `${this.host} -> ${region}`);
  }

  /** No region from discovery: last known region, else the fallback, else a 503. */
  private noRegion(reason: string, paused: bool): Action {
    const router = this.router;
    router.lookupFailures.increment();
    const stale = this.host.length > 0 ? router.cache.stale(this.host) : null;
    const fallback = stale !== null ? stale : router.config.fallbackRegion;
    if (fallback !== null) {
      router.fallbacks.increment();
      logInfo(`${reason}; host ${this.host} routed to ${stale !== null ? "last known" : "fallback"} region ${fallback}`);
      // A client-sent region header must never pick the cluster: always overwrite it.
      this.route(fallback);
      if (paused) this.resumeRequest();
      return Action.Continue;
    }
    router.rejected.increment();
    logWarn(`${reason}; host ${this.host} rejected with 503`);
    const headers = new HeaderList().add("content-type", "text/plain; charset=utf-8");
    this.sendLocalResponse(
      503,
      String.UTF8.encode(`no region for this request: ${reason}\n`),
      headers,
      -1,
      "regional_routing_no_region",
    );
    return Action.Pause;
  }
}
