/**
 * The validated, typed form of the Envoy v3 bootstrap subset this data plane runs. Produced by
 * `parseBootstrap`; everything downstream reads these types, never the raw YAML.
 */

export interface SocketAddress {
  host: string;
  port: number;
}

export interface NodeConfig {
  id: string;
  cluster: string;
  /** `node.metadata` as plain JSON (a google.protobuf.Struct). */
  metadata: Record<string, unknown>;
  locality?: { region?: string; zone?: string; subZone?: string };
}

export interface StatsTagConfig {
  tagName: string;
  regex?: string;
  fixedValue?: string;
}

export interface AdminConfig {
  address: SocketAddress;
  accessLogs: AccessLogConfig[];
}

export interface AccessLogConfig {
  /** "stdout" | "stderr" or a file path. */
  sink: { kind: "stdout" } | { kind: "stderr" } | { kind: "file"; path: string };
  format: { kind: "text"; template: string } | { kind: "json"; fields: Record<string, unknown> };
}

export interface TlsUpstreamConfig {
  sni?: string;
  /** PEM text of the trusted CA bundle; undefined = Node's default roots. */
  trustedCa?: string;
  alpn?: string[];
  /** PEM client certificate chain and key for mutual TLS. */
  certificateChain?: string;
  privateKey?: string;
}

export type DnsFamily = "V4_ONLY" | "V6_ONLY" | "AUTO" | "V4_PREFERRED" | "ALL";

export interface ClusterConfig {
  name: string;
  type: "STATIC" | "STRICT_DNS" | "LOGICAL_DNS";
  connectTimeoutMs: number;
  endpoints: SocketAddress[];
  dnsFamily: DnsFamily;
  dnsRefreshMs: number;
  tls?: TlsUpstreamConfig;
  /** The upstream speaks HTTP/2 (for a request without a downstream protocol when `useDownstreamProtocol`). */
  http2: boolean;
  /**
   * `use_downstream_protocol_config`: a request goes upstream in its downstream protocol, HTTP/2 for HTTP/2,
   * else HTTP/1.1 (cluster_info_impl.cc ClusterInfoImpl::upstreamHttpProtocol); plugin callouts have none.
   */
  useDownstreamProtocol: boolean;
  /** Cluster-level idle timeout for upstream connections (ms). */
  idleTimeoutMs: number;
  path: string;
}

export interface PluginCode {
  kind: "local" | "remote";
  /** Local: file path; remote: URL. */
  location: string;
  inline?: Uint8Array;
  /** Remote: cluster that serves the URL. */
  cluster?: string;
  timeoutMs?: number;
  sha256?: string;
  /** Config path for errors about the code (missing file, bad hash). */
  path: string;
}

export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

export interface WasmPluginConfig {
  name: string;
  rootId: string;
  vmId: string;
  code: PluginCode;
  /** Bytes given to proxy_on_vm_start. */
  vmConfiguration: Uint8Array;
  /** Bytes given to proxy_on_configure. */
  pluginConfiguration: Uint8Array;
  environment: Record<string, string>;
  failurePolicy: FailurePolicy;
  reloadBackoffMs: number;
  allowOnHeadersStopIteration: boolean;
  path: string;
}

export type StringMatcher =
  | { kind: "exact"; value: string; ignoreCase: boolean }
  | { kind: "prefix"; value: string; ignoreCase: boolean }
  | { kind: "suffix"; value: string; ignoreCase: boolean }
  | { kind: "contains"; value: string; ignoreCase: boolean }
  | { kind: "regex"; regex: RegExp };

export interface HeaderMatcherConfig {
  name: string;
  /** undefined = present_match true */
  match?: StringMatcher;
  present?: boolean;
  invert: boolean;
  /** Regex matched against the whole value. */
}

export interface QueryParameterMatcherConfig {
  name: string;
  match?: StringMatcher;
  present?: boolean;
}

export interface HeaderValueOption {
  name: string;
  value: string;
  /** APPEND_IF_EXISTS_OR_ADD (default), ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS */
  action: "append" | "add_if_absent" | "overwrite_or_add" | "overwrite_if_exists";
}

export interface RouteMatchConfig {
  path: { kind: "prefix" | "path" | "regex" | "path_separated_prefix"; value: string; regex?: RegExp };
  caseSensitive: boolean;
  headers: HeaderMatcherConfig[];
  queryParameters: QueryParameterMatcherConfig[];
  /** `grpc: {}`: only gRPC requests (a gRPC content-type) match. */
  grpc: boolean;
}

export type RouteTarget =
  | { kind: "cluster"; cluster: string }
  | { kind: "cluster_header"; header: string }
  | { kind: "weighted_clusters"; clusters: Array<{ name: string; weight: number }>; totalWeight: number };

/** `retry_policy`: which failures are retried and how often (Envoy's retry_on names). */
export interface RetryPolicyConfig {
  /** connect-failure, reset, 5xx, gateway-error, retriable-status-codes. */
  retryOn: Set<string>;
  numRetries: number;
  retriableStatusCodes: number[];
}

export interface RouteActionConfig {
  target: RouteTarget;
  retryPolicy?: RetryPolicyConfig;
  prefixRewrite?: string;
  regexRewrite?: { pattern: RegExp; substitution: string };
  hostRewriteLiteral?: string;
  autoHostRewrite: boolean;
  /** 0 = disabled. Envoy's default is 15 s. */
  timeoutMs: number;
  /** Route idle_timeout: replaces stream_idle_timeout for streams on this route (0 = off). */
  idleTimeoutMs?: number;
}

export interface DirectResponseConfig {
  status: number;
  body?: Uint8Array;
}

export interface RouteConfig {
  name: string;
  match: RouteMatchConfig;
  action:
    | { kind: "route"; route: RouteActionConfig }
    | { kind: "direct_response"; response: DirectResponseConfig };
  requestHeadersToAdd: HeaderValueOption[];
  requestHeadersToRemove: string[];
  responseHeadersToAdd: HeaderValueOption[];
  responseHeadersToRemove: string[];
  metadata: Record<string, unknown>;
  path: string;
}

export interface VirtualHostConfig {
  name: string;
  domains: string[];
  routes: RouteConfig[];
  requestHeadersToAdd: HeaderValueOption[];
  responseHeadersToAdd: HeaderValueOption[];
  metadata: Record<string, unknown>;
}

export interface RouteTableConfig {
  name: string;
  virtualHosts: VirtualHostConfig[];
  requestHeadersToAdd: HeaderValueOption[];
  responseHeadersToAdd: HeaderValueOption[];
}

/** The downstream HTTP/2 codec's settings (http2_protocol_options). */
export interface Http2CodecOptions {
  maxConcurrentStreams: number;
  initialStreamWindowSize: number;
  initialConnectionWindowSize: number;
}

export interface HttpConnectionManagerConfig {
  statPrefix: string;
  /**
   * codec_type: AUTO (Envoy's default) picks HTTP/2 for a connection that starts with the HTTP/2 preface and
   * HTTP/1.1 otherwise; HTTP1 and HTTP2 take only that codec.
   */
  codecType: "AUTO" | "HTTP1" | "HTTP2";
  /** http2_protocol_options of the downstream HTTP/2 codec. */
  http2: Http2CodecOptions;
  routeTable: RouteTableConfig;
  wasmFilters: WasmPluginConfig[];
  accessLogs: AccessLogConfig[];
  useRemoteAddress: boolean;
  xffNumTrustedHops: number;
  skipXffAppend: boolean;
  generateRequestId: boolean;
  serverName: string;
  /** Envoy default 60 KiB. */
  maxRequestHeadersKb: number;
  maxHeadersCount: number;
  /** stream_idle_timeout (default 5 min; 0 = off): no activity on a stream for this long ends it (408/504 SI). */
  streamIdleTimeoutMs: number;
  /** request_timeout (default 0 = off): the whole request must arrive (and pass the filters) in this time. */
  requestTimeoutMs: number;
  /** request_headers_timeout (default 0 = off): the request headers must arrive in this time. */
  requestHeadersTimeoutMs: number;
  /** common_http_protocol_options.idle_timeout (default 1 h; 0 = off): a connection with no stream this long closes. */
  idleTimeoutMs: number;
  /** drain_timeout (default 5 s): how long an HTTP/1 connection drains before it closes. */
  drainTimeoutMs: number;
  /** http_protocol_options.allow_absolute_url (default true): `GET http://host/path` takes host and path from the URI. */
  allowAbsoluteUrl: boolean;
  /** http_protocol_options.default_host_for_http_10: the authority of an HTTP/1.0 request without Host ("" = none). */
  defaultHostForHttp10: string;
  /**
   * http_protocol_options.enable_trailers (default false): the HTTP/1 codec reads chunked request trailers and
   * writes response trailers on a chunked response; otherwise it drops them, as Envoy does.
   */
  http1EnableTrailers: boolean;
  /** Forward `Expect: 100-continue` upstream and relay its 100 (true), or answer 100 here (false, Envoy's default). */
  proxy100Continue: boolean;
  /** Listener per_connection_buffer_limit_bytes (Envoy default 1 MiB): the filter buffer limit. */
  bufferLimitBytes: number;
  path: string;
}

export interface TcpProxyConfig {
  statPrefix: string;
  cluster: string;
  weightedClusters?: Array<{ name: string; weight: number }>;
  accessLogs: AccessLogConfig[];
  idleTimeoutMs: number;
  maxConnectAttempts: number;
  path: string;
}

/** Envoy's `core.v3.TrafficDirection`: what plugins read as `xds.listener_direction` / `listener_direction`. */
export type TrafficDirection = 0 | 1 | 2;

/** Which listener a stream or connection came in on. */
export interface ListenerIdentity {
  name: string;
  direction: TrafficDirection;
}

export interface ListenerConfig {
  name: string;
  /** `traffic_direction`: 0 UNSPECIFIED, 1 INBOUND, 2 OUTBOUND. */
  trafficDirection: TrafficDirection;
  address: SocketAddress;
  networkWasmFilters: WasmPluginConfig[];
  http?: HttpConnectionManagerConfig;
  tcp?: TcpProxyConfig;
  accessLogs: AccessLogConfig[];
  bufferLimitBytes: number;
  path: string;
}

/**
 * A `bootstrap_extensions` entry `envoy.bootstrap.wasm` (`envoy.extensions.wasm.v3.WasmService`): a plugin
 * with no filter, started beside the listeners.
 */
export interface WasmServiceConfig {
  plugin: WasmPluginConfig;
  /** One instance in a VM of its own (true), or one per worker in the worker's VM (false). */
  singleton: boolean;
  path: string;
}

export interface BootstrapConfig {
  node: NodeConfig;
  admin?: AdminConfig;
  /** Wasm services (bootstrap_extensions), in file order. */
  wasmServices?: WasmServiceConfig[];
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
  statsTags: StatsTagConfig[];
  useAllDefaultTags: boolean;
  /** The document as read, for /config_dump. */
  document: unknown;
  /** Directory relative paths (wasm files, CA files) are resolved against. */
  baseDir: string;
}
