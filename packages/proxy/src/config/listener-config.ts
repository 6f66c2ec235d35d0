/**
 * `envoy.config.listener.v3.Listener`: filter chains (each network Wasm filters, then a terminal
 * `http_connection_manager` (HTTP Wasm filters + router) or `tcp_proxy`), `default_filter_chain`, TLS
 * transport sockets and the TLS inspector (read in filter-chain-config.ts).
 */
import { readAccessLogs } from "./access-log-config.ts";
import type { ConfigMessage, ConfigValue } from "./fields.ts";
import {
  type ChainFilters,
  checkDistinctMatches,
  type FilterChainConfig,
  readFilterChain,
  readListenerFilters,
} from "./filter-chain-config.ts";
import type {
  Http2CodecOptions,
  HttpConnectionManagerConfig,
  ListenerConfig,
  TcpProxyConfig,
  TrafficDirection,
  WasmPluginConfig,
} from "./model.ts";
import { readRouteTable } from "./route-config.ts";
import { readAddress } from "./socket-address.ts";
import { expectType, readTypedConfig, type TypedConfig } from "./typed-config.ts";
import { readWasmFilter } from "./wasm-config.ts";

/** Envoy's default `per_connection_buffer_limit_bytes`: 1 MiB. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

const HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const TCP_PROXY = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const NETWORK_WASM = "envoy.extensions.filters.network.wasm.v3.Wasm";
const HTTP_WASM = "envoy.extensions.filters.http.wasm.v3.Wasm";
const ROUTER = "envoy.extensions.filters.http.router.v3.Router";

/** Filters may name their type only by `name` (old style, no typed_config); map those names to types. */
const TYPE_BY_FILTER_NAME: Record<string, string> = {
  "envoy.filters.http.router": ROUTER,
  "envoy.router": ROUTER,
};

function readFilterConfig(filter: ConfigMessage): { name: string; typed: TypedConfig | undefined } {
  const name = filter.optional("name")?.string() ?? "";
  const typedValue = filter.optional("typed_config");
  if (filter.has("config_discovery"))
    filter.optional("config_discovery")!.fail("dynamic filter config is not supported");
  filter.accept("disabled", "is_optional");
  filter.finish();
  return { name, typed: typedValue ? readTypedConfig(typedValue) : undefined };
}

function readHttpFilters(value: ConfigValue | undefined, baseDir: string): WasmPluginConfig[] {
  const filters = value?.list() ?? [];
  const wasm: WasmPluginConfig[] = [];
  let routerSeen = false;
  filters.forEach((f, i) => {
    const { name, typed } = readFilterConfig(f.message());
    const type = typed?.type ?? TYPE_BY_FILTER_NAME[name];
    if (!type) f.fail(`filter ${JSON.stringify(name)} needs a typed_config`);
    if (routerSeen) f.fail("the router must be the last HTTP filter");
    if (type === ROUTER) {
      typed?.message.accept("suppress_envoy_headers", "start_child_span", "dynamic_stats");
      typed?.message.finish();
      routerSeen = true;
      return;
    }
    if (type === HTTP_WASM) {
      wasm.push(readWasmFilter(typed!.message, baseDir));
      return;
    }
    f.fail(`unsupported HTTP filter type ${type} (supported: ${HTTP_WASM}, ${ROUTER})`);
    void i;
  });
  if (!routerSeen) (value ?? filters[0])?.fail("the last HTTP filter must be envoy.filters.http.router");
  return wasm;
}

/** The HTTP/2 codec settings Envoy uses when http2_protocol_options leaves them out. */
const DEFAULT_HTTP2_OPTIONS: Http2CodecOptions = {
  maxConcurrentStreams: 2147483647,
  initialStreamWindowSize: 268435456,
  initialConnectionWindowSize: 268435456,
};

/**
 * A connection manager timeout in whole milliseconds, as Envoy reads it (PROTOBUF_GET_MS_OR_DEFAULT truncates
 * to milliseconds); 0 disables the ones documented so.
 */
function timeoutMs(value: ConfigValue | undefined, defaultMs: number): number {
  return value ? Math.floor(value.durationMs()) : defaultMs;
}

function readHcm(m: ConfigMessage, baseDir: string, bufferLimitBytes: number): HttpConnectionManagerConfig {
  const statPrefix = m.required("stat_prefix").string();
  const codecValue = m.optional("codec_type");
  // HTTP3 needs a QUIC listener, which this data plane does not have.
  const codecType = codecValue ? codecValue.oneOf(["AUTO", "HTTP1", "HTTP2"] as const) : "AUTO";
  if (m.has("rds")) m.optional("rds")!.fail("RDS is not supported; use an inline route_config");
  const routeTable = readRouteTable(m.required("route_config"), baseDir);
  const httpFiltersValue = m.optional("http_filters");
  if (!httpFiltersValue) m.fail("http_filters is required (at least envoy.filters.http.router)");
  const wasmFilters = readHttpFilters(httpFiltersValue, baseDir);
  const accessLogs = readAccessLogs(m.optional("access_log"), baseDir);
  const useRemoteAddress = m.optional("use_remote_address")?.wrappedBool() ?? false;
  const xffNumTrustedHops = m.optional("xff_num_trusted_hops")?.integer() ?? 0;
  const skipXffAppend = m.optional("skip_xff_append")?.bool() ?? false;
  const generateRequestId = m.optional("generate_request_id")?.wrappedBool() ?? true;
  const serverName = m.optional("server_name")?.string() || "envoy";
  const maxRequestHeadersKb = m.optional("max_request_headers_kb")?.wrappedInteger(1, 8192) ?? 60;
  let idleTimeoutMs = 3_600_000;
  let maxHeadersCount = 100;
  const common = m.optional("common_http_protocol_options")?.message();
  if (common) {
    idleTimeoutMs = timeoutMs(common.optional("idle_timeout"), idleTimeoutMs);
    maxHeadersCount = common.optional("max_headers_count")?.wrappedInteger(1) ?? maxHeadersCount;
    common.finish();
  }
  // Envoy's defaults: stream idle 5 min; no request or request-headers timeout; drain 5 s.
  const streamIdleTimeoutMs = timeoutMs(m.optional("stream_idle_timeout"), 300_000);
  const requestTimeoutMs = timeoutMs(m.optional("request_timeout"), 0);
  const requestHeadersTimeoutMs = timeoutMs(m.optional("request_headers_timeout"), 0);
  const drainTimeoutMs = timeoutMs(m.optional("drain_timeout"), 5000);
  const proxy100Continue = m.optional("proxy_100_continue")?.bool() ?? false;
  let allowAbsoluteUrl = true;
  let defaultHostForHttp10 = "";
  let http1EnableTrailers = false;
  const h1 = m.optional("http_protocol_options")?.message();
  if (h1) {
    allowAbsoluteUrl = h1.optional("allow_absolute_url")?.wrappedBool() ?? true;
    defaultHostForHttp10 = h1.optional("default_host_for_http_10")?.string() ?? "";
    http1EnableTrailers = h1.optional("enable_trailers")?.bool() ?? false;
    // HTTP/1.0 is accepted whatever accept_http_10 says (see the README's differences).
    h1.accept("accept_http_10");
    h1.finish();
  }
  let http2 = DEFAULT_HTTP2_OPTIONS;
  const h2 = m.optional("http2_protocol_options")?.message();
  if (h2) {
    // Envoy's defaults (protocol_options.cc): 2^31-1 streams, 256 MiB stream window, 256 MiB connection window.
    http2 = {
      maxConcurrentStreams:
        h2.optional("max_concurrent_streams")?.wrappedInteger(1) ??
        DEFAULT_HTTP2_OPTIONS.maxConcurrentStreams,
      initialStreamWindowSize:
        h2.optional("initial_stream_window_size")?.wrappedInteger(65535, 2147483647) ??
        DEFAULT_HTTP2_OPTIONS.initialStreamWindowSize,
      initialConnectionWindowSize:
        h2.optional("initial_connection_window_size")?.wrappedInteger(65535, 2147483647) ??
        DEFAULT_HTTP2_OPTIONS.initialConnectionWindowSize,
    };
    h2.finish();
  }
  m.accept("normalize_path", "merge_slashes", "path_with_escaped_slashes_action");
  m.finish();
  return {
    statPrefix,
    codecType,
    http2,
    routeTable,
    wasmFilters,
    accessLogs,
    useRemoteAddress,
    xffNumTrustedHops,
    skipXffAppend,
    generateRequestId,
    serverName,
    maxRequestHeadersKb,
    maxHeadersCount,
    streamIdleTimeoutMs,
    requestTimeoutMs,
    requestHeadersTimeoutMs,
    idleTimeoutMs,
    drainTimeoutMs,
    proxy100Continue,
    allowAbsoluteUrl,
    defaultHostForHttp10,
    http1EnableTrailers,
    bufferLimitBytes,
    path: m.path,
  };
}

function readTcpProxy(m: ConfigMessage, baseDir: string): TcpProxyConfig {
  const statPrefix = m.required("stat_prefix").string();
  const chosen = m.oneOf(["cluster", "weighted_clusters"])!;
  let cluster = "";
  let weightedClusters: TcpProxyConfig["weightedClusters"];
  if (chosen[0] === "cluster") cluster = chosen[1].nonEmptyString();
  else {
    const w = chosen[1].message();
    weightedClusters = w
      .required("clusters")
      .list()
      .map((c) => {
        const cm = c.message();
        const r = { name: cm.required("name").nonEmptyString(), weight: cm.required("weight").integer(1) };
        cm.finish();
        return r;
      });
    w.finish();
    cluster = weightedClusters[0]?.name ?? "";
  }
  const accessLogs = readAccessLogs(m.optional("access_log"), baseDir);
  const idleTimeoutMs = m.optional("idle_timeout")?.durationMs() ?? 3_600_000;
  const maxConnectAttempts = m.optional("max_connect_attempts")?.wrappedInteger(1) ?? 1;
  m.finish();
  return {
    statPrefix,
    cluster,
    ...(weightedClusters ? { weightedClusters } : {}),
    accessLogs,
    idleTimeoutMs,
    maxConnectAttempts,
    path: m.path,
  };
}

/** Envoy's TrafficDirection enum, in value order. */
const TRAFFIC_DIRECTIONS = ["UNSPECIFIED", "INBOUND", "OUTBOUND"] as const;

export function readListener(value: ConfigValue, baseDir: string, index: number): ListenerConfig {
  const l = value.message();
  const name = l.optional("name")?.string() || `listener_${index}`;
  const address = readAddress(l.required("address"));
  const bufferLimitBytes =
    l.optional("per_connection_buffer_limit_bytes")?.wrappedInteger(1) ?? DEFAULT_BUFFER_LIMIT_BYTES;
  const readFilters = (filters: ConfigValue[], chain: ConfigMessage): ChainFilters =>
    readChainFilters(filters, chain, baseDir, bufferLimitBytes);
  const chains = (l.optional("filter_chains")?.list() ?? []).map((c) =>
    readFilterChain(c, baseDir, readFilters),
  );
  const defaultValue = l.optional("default_filter_chain");
  const defaultChain = defaultValue ? readFilterChain(defaultValue, baseDir, readFilters) : undefined;
  const first = chains[0] ?? defaultChain;
  if (!first) l.fail("filter_chains or default_filter_chain is required");
  checkDistinctMatches(chains);
  const accessLogs = readAccessLogs(l.optional("access_log"), baseDir);
  const direction = l.optional("traffic_direction")?.oneOf(TRAFFIC_DIRECTIONS) ?? "UNSPECIFIED";
  const timeout = l.optional("listener_filters_timeout");
  const continueOnTimeout = l.optional("continue_on_listener_filters_timeout")?.bool() ?? false;
  const tlsInspector = readListenerFilters(l.optional("listener_filters"));
  l.finish();

  const listener: ListenerConfig = {
    name,
    trafficDirection: TRAFFIC_DIRECTIONS.indexOf(direction) as TrafficDirection,
    address,
    networkWasmFilters: first.networkWasmFilters,
    ...(first.http ? { http: first.http } : {}),
    ...(first.tcp ? { tcp: first.tcp } : {}),
    accessLogs,
    bufferLimitBytes,
    path: value.path,
  };
  const plain = (c: FilterChainConfig) =>
    !c.tls &&
    c.match.destinationPort === 0 &&
    c.match.serverNames.length === 0 &&
    c.match.transportProtocol === "" &&
    c.match.applicationProtocols.length === 0 &&
    c.match.prefixRanges.length === 0 &&
    c.match.directSourcePrefixRanges.length === 0 &&
    c.match.sourceType === "ANY" &&
    c.match.sourcePrefixRanges.length === 0 &&
    c.match.sourcePorts.length === 0;
  // One chain that matches everything, no default, no listener filter: the connection goes straight to it.
  if (chains.length !== 1 || defaultChain || tlsInspector || !plain(first)) {
    listener.filterChains = {
      chains,
      ...(defaultChain ? { defaultChain } : {}),
      tlsInspector,
      // Envoy's default listener_filters_timeout is 15 s.
      listenerFiltersTimeoutMs: timeout ? timeout.durationMs() : 15_000,
      continueOnListenerFiltersTimeout: continueOnTimeout,
    };
  }
  return listener;
}

/** A chain's `filters`: network Wasm filters, then a terminal http_connection_manager or tcp_proxy. */
function readChainFilters(
  filters: ConfigValue[],
  chain: ConfigMessage,
  baseDir: string,
  bufferLimitBytes: number,
): ChainFilters {
  const out: ChainFilters = { networkWasmFilters: [] };
  for (const [i, f] of filters.entries()) {
    const { name: filterName, typed } = readFilterConfig(f.message());
    if (!typed) return f.fail(`filter ${JSON.stringify(filterName)} needs a typed_config`);
    const last = i === filters.length - 1;
    if (typed.type === NETWORK_WASM) {
      if (last) f.fail("a network Wasm filter must be followed by tcp_proxy or http_connection_manager");
      out.networkWasmFilters.push(readWasmFilter(typed.message, baseDir));
      continue;
    }
    expectType(typed, [HCM, TCP_PROXY, NETWORK_WASM]);
    if (!last) f.fail(`${typed.type} is a terminal filter and must be last in the chain`);
    if (typed.type === HCM) out.http = readHcm(typed.message, baseDir, bufferLimitBytes);
    else out.tcp = readTcpProxy(typed.message, baseDir);
  }
  if (!out.http && !out.tcp) chain.fail("the filter chain needs http_connection_manager or tcp_proxy");
  if (out.http && out.networkWasmFilters.length > 0)
    chain.fail("network Wasm filters before http_connection_manager are not supported");
  return out;
}
