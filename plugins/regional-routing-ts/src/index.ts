// regional-routing (TypeScript twin of plugins/regional-routing): routes each request to the cluster of
// its host's region, asked from a discovery service with an awaited callout while the request waits.

import {
  type CalloutResponse,
  counter,
  definePlugin,
  type HttpStream,
  log,
  now,
  respond,
} from "@proxy-wasm-ts/js";
import { hostOfAuthority, lookupPath, readLookupAnswer } from "./discovery-lookup.ts";
import { RegionCache } from "./region-cache.ts";
import { parseRouterConfig, type RouterConfig } from "./router-config.ts";

interface Router {
  config: RouterConfig;
  cache: RegionCache;
}

const cacheHits = counter("regional_routing_cache_hits_total");
const lookups = counter("regional_routing_lookups_total");
const lookupFailures = counter("regional_routing_lookup_failures_total");
const fallbacks = counter("regional_routing_fallbacks_total");
const rejected = counter("regional_routing_rejected_total");

/** Puts the region in the header the route's `cluster_header` reads, and makes Envoy route again. */
function route(stream: HttpStream<Router>, host: string, region: string): void {
  stream.request.headers.set(stream.config.config.regionHeader, region);
  // Envoy picked the route before this filter ran; without this it would keep the old cluster.
  stream.clearRouteCache();
  log.debug(`${host} -> ${region}`);
}

/** No region from discovery: the last known region, else the fallback, else a 503 that says why. */
function noRegion(stream: HttpStream<Router>, host: string, reason: string) {
  const { config, cache } = stream.config;
  lookupFailures.increment();
  const stale = host ? cache.stale(host) : null;
  const fallback = stale ?? config.fallbackRegion;
  if (fallback !== null) {
    fallbacks.increment();
    log.info(
      `${reason}; host ${host} routed to ${stale !== null ? "last known" : "fallback"} region ${fallback}`,
    );
    // A client-sent region header must never pick the cluster: always overwrite it.
    route(stream, host, fallback);
    return;
  }
  rejected.increment();
  log.warn(`${reason}; host ${host} rejected with 503`);
  return respond(503, `no region for this request: ${reason}\n`, {
    headers: { "content-type": "text/plain; charset=utf-8" },
    details: "regional_routing_no_region",
  });
}

definePlugin<Router>({
  configure(text) {
    const config = parseRouterConfig(text);
    return { config, cache: new RegionCache(config.cacheTtlMs, config.cacheMaxEntries) };
  },

  async onRequestHeaders(request, stream) {
    const { config, cache } = stream.config;
    const host = hostOfAuthority(request.authority);
    if (host === null) return noRegion(stream, "", "the request has no usable :authority");
    const cached = cache.fresh(host, now());
    if (cached !== null) {
      cacheHits.increment();
      return route(stream, host, cached);
    }
    lookups.increment();
    let answer: CalloutResponse;
    try {
      answer = await stream.fetch(config.discoveryCluster, {
        path: lookupPath(config, host),
        authority: config.discoveryAuthority,
        headers: { accept: "application/json" },
        timeout: config.timeoutMs,
      });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return noRegion(stream, host, `discovery service did not answer (${why})`);
    }
    const result = readLookupAnswer(answer, config);
    if ("reason" in result) return noRegion(stream, host, result.reason);
    cache.put(host, result.region, now());
    route(stream, host, result.region);
  },

  onResponseHeaders(response, stream) {
    response.headers.set("processed-by", stream.config.config.processedBy);
  },
});
