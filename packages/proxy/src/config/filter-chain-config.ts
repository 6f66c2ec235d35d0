/**
 * A listener's filter chains as Envoy reads them (`envoy.config.listener.v3.FilterChain`,
 * `FilterChainMatch`), the downstream TLS transport socket (`DownstreamTlsContext`) and the
 * `envoy.filters.listener.tls_inspector` listener filter.
 */
import { isIP } from "node:net";
import { ConfigError } from "./config-error.ts";
import { readDataSourceText } from "./data-source.ts";
import type { ConfigMessage, ConfigValue } from "./fields.ts";
import type { HttpConnectionManagerConfig, TcpProxyConfig, WasmPluginConfig } from "./model.ts";
import { expectType, readTypedConfig } from "./typed-config.ts";

/** An IPv4 or IPv6 CIDR range (`envoy.config.core.v3.CidrRange`). */
export interface CidrRange {
  address: string;
  prefixLen: number;
  /** The canonical `address/len` text, the key filter chain matching uses. */
  text: string;
}

/** `filter_chain_match`: empty lists and an undefined port mean "any", as in Envoy. */
export interface FilterChainMatchConfig {
  destinationPort: number;
  /** Lower-cased; a `*.example.com` wildcard is kept as written. */
  serverNames: string[];
  /** "" (any), "tls" or "raw_buffer". */
  transportProtocol: string;
  applicationProtocols: string[];
  /** `prefix_ranges`: the destination (local) address. */
  prefixRanges: CidrRange[];
  /** `direct_source_prefix_ranges`: the peer's own address (no PROXY protocol here, so the source). */
  directSourcePrefixRanges: CidrRange[];
  /** `source_type`: ANY, SAME_IP_OR_LOOPBACK or EXTERNAL. */
  sourceType: "ANY" | "SAME_IP_OR_LOOPBACK" | "EXTERNAL";
  sourcePrefixRanges: CidrRange[];
  /** `source_ports`; empty = any. */
  sourcePorts: number[];
}

/** One of a `DownstreamTlsContext`'s `tls_certificates` (PEM text). */
export interface DownstreamTlsCertificate {
  certificateChain: string;
  privateKey: string;
}

/** `DownstreamTlsContext`. */
export interface DownstreamTlsConfig {
  /** In config order: the first serves a client whose SNI names none of them (or that sends none). */
  certificates: DownstreamTlsCertificate[];
  /** `common_tls_context.alpn_protocols`, in preference order; empty = no ALPN. */
  alpnProtocols: string[];
  /** `validation_context.trusted_ca` (PEM): client certificates are requested and verified against it. */
  trustedCa?: string;
  /** `require_client_certificate`; it takes effect with a `trusted_ca` only, as in Envoy. */
  requireClientCertificate: boolean;
}

export interface FilterChainConfig {
  name: string;
  match: FilterChainMatchConfig;
  tls?: DownstreamTlsConfig;
  networkWasmFilters: WasmPluginConfig[];
  http?: HttpConnectionManagerConfig;
  tcp?: TcpProxyConfig;
  path: string;
}

/** Everything before a connection reaches a filter chain's network filters. */
export interface ListenerFilterChains {
  chains: FilterChainConfig[];
  defaultChain?: FilterChainConfig;
  /** `envoy.filters.listener.tls_inspector` is configured. */
  tlsInspector: boolean;
  /** `listener_filters_timeout` (Envoy's default 15 s; 0 = none). */
  listenerFiltersTimeoutMs: number;
  continueOnListenerFiltersTimeout: boolean;
}

declare module "./model.ts" {
  interface ListenerConfig {
    /**
     * Set when the listener needs Envoy's listener stage (several chains, a match, a default chain, TLS or a
     * listener filter). The listener's own `networkWasmFilters` / `http` / `tcp` then describe its first chain.
     */
    filterChains?: ListenerFilterChains;
  }
}

const TLS_SOCKET = "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
const RAW_BUFFER_SOCKET = "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";
const TLS_INSPECTOR = "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";
const TLS_INSPECTOR_NAMES = new Set(["envoy.filters.listener.tls_inspector", "envoy.listener.tls_inspector"]);

/** Envoy's CidrRange::create: the address masked to its prefix, IPv4 or IPv6. */
function readCidr(value: ConfigValue): CidrRange {
  const m = value.message();
  const address = m.required("address_prefix").nonEmptyString();
  const family = isIP(address);
  if (family === 0) m.required("address_prefix").fail(`not an IP address: ${JSON.stringify(address)}`);
  const max = family === 4 ? 32 : 128;
  const prefixLen = m.optional("prefix_len")?.wrappedInteger(0, max) ?? max;
  m.finish();
  return { address, prefixLen, text: `${address}/${prefixLen}` };
}

function readMatch(value: ConfigValue | undefined): FilterChainMatchConfig {
  const match: FilterChainMatchConfig = {
    destinationPort: 0,
    serverNames: [],
    transportProtocol: "",
    applicationProtocols: [],
    prefixRanges: [],
    directSourcePrefixRanges: [],
    sourceType: "ANY",
    sourcePrefixRanges: [],
    sourcePorts: [],
  };
  if (!value) return match;
  const m = value.message();
  match.destinationPort = m.optional("destination_port")?.wrappedInteger(1, 65535) ?? 0;
  for (const v of m.optional("server_names")?.list() ?? []) {
    const name = v.nonEmptyString().toLowerCase();
    // setupFilterChainMatcher: "partial wildcards are not supported in server_names".
    if (name.includes("*") && !name.startsWith("*.")) v.fail("partial wildcards are not supported");
    match.serverNames.push(name);
  }
  match.transportProtocol = m.optional("transport_protocol")?.string() ?? "";
  match.applicationProtocols = (m.optional("application_protocols")?.list() ?? []).map((v) =>
    v.nonEmptyString(),
  );
  match.prefixRanges = (m.optional("prefix_ranges")?.list() ?? []).map(readCidr);
  match.directSourcePrefixRanges = (m.optional("direct_source_prefix_ranges")?.list() ?? []).map(readCidr);
  match.sourcePrefixRanges = (m.optional("source_prefix_ranges")?.list() ?? []).map(readCidr);
  // ConnectionSourceType, in its number order.
  match.sourceType = m.optional("source_type")?.oneOf(["ANY", "SAME_IP_OR_LOOPBACK", "EXTERNAL"]) ?? "ANY";
  match.sourcePorts = (m.optional("source_ports")?.list() ?? []).map((v) => v.integer(1, 65535));
  m.finish();
  return match;
}

function readTlsCertificate(value: ConfigValue, baseDir: string): DownstreamTlsCertificate {
  const m = value.message();
  const certificateChain = readDataSourceText(m.required("certificate_chain"), baseDir);
  const privateKey = readDataSourceText(m.required("private_key"), baseDir);
  m.finish();
  return { certificateChain, privateKey };
}

/**
 * `validation_context`: `trusted_ca` only. Envoy's other checks (SAN matchers, hashes, CRLs) would let
 * clients in or out that this reader cannot judge, so they are refused naming the field.
 */
function readTrustedCa(value: ConfigValue | undefined, baseDir: string): string | undefined {
  if (!value) return undefined;
  const m = value.message();
  const ca = m.optional("trusted_ca");
  const text = ca ? readDataSourceText(ca, baseDir) : undefined;
  m.finish();
  return text;
}

function readDownstreamTls(m: ConfigMessage, baseDir: string): DownstreamTlsConfig {
  const common = m.required("common_tls_context").message();
  const list = common.required("tls_certificates");
  const certificates = list.list().map((c) => readTlsCertificate(c, baseDir));
  if (certificates.length === 0) list.fail("at least one certificate is required");
  const alpnProtocols = (common.optional("alpn_protocols")?.list() ?? []).map((v) => v.nonEmptyString());
  const trustedCa = readTrustedCa(common.optional("validation_context"), baseDir);
  common.finish();
  const requireClientCertificate = m.optional("require_client_certificate")?.wrappedBool() ?? false;
  m.finish();
  return {
    certificates,
    alpnProtocols,
    ...(trustedCa !== undefined ? { trustedCa } : {}),
    requireClientCertificate,
  };
}

function readTransportSocket(value: ConfigValue, baseDir: string): DownstreamTlsConfig | undefined {
  const m = value.message();
  const name = m.optional("name")?.string() ?? "";
  const typedValue = m.optional("typed_config");
  m.finish();
  if (!typedValue) return value.fail(`transport socket ${JSON.stringify(name)} needs a typed_config`);
  const typed = readTypedConfig(typedValue);
  expectType(typed, [TLS_SOCKET, RAW_BUFFER_SOCKET]);
  if (typed.type === RAW_BUFFER_SOCKET) {
    typed.message.finish();
    return undefined;
  }
  return readDownstreamTls(typed.message, baseDir);
}

export interface ChainFilters {
  networkWasmFilters: WasmPluginConfig[];
  http?: HttpConnectionManagerConfig;
  tcp?: TcpProxyConfig;
}

/** One `FilterChain`; `readFilters` reads its `filters` (network Wasm filters, then HCM or tcp_proxy). */
export function readFilterChain(
  value: ConfigValue,
  baseDir: string,
  readFilters: (filters: ConfigValue[], chain: ConfigMessage) => ChainFilters,
): FilterChainConfig {
  const chain = value.message();
  const name = chain.optional("name")?.string() ?? "";
  const match = readMatch(chain.optional("filter_chain_match"));
  const socket = chain.optional("transport_socket");
  const tls = socket ? readTransportSocket(socket, baseDir) : undefined;
  const filters = readFilters(chain.required("filters").list(), chain);
  chain.finish();
  return { name, match, ...(tls ? { tls } : {}), ...filters, path: value.path };
}

/**
 * `listener_filters`: only the TLS inspector. Its options (fingerprinting, buffer sizes) change nothing a
 * filter chain or a plugin sees here, so they are accepted.
 */
export function readListenerFilters(value: ConfigValue | undefined): boolean {
  let tlsInspector = false;
  for (const f of value?.list() ?? []) {
    const m = f.message();
    const name = m.optional("name")?.string() ?? "";
    const typedValue = m.optional("typed_config");
    m.finish();
    const typed = typedValue ? readTypedConfig(typedValue) : undefined;
    if (typed) {
      expectType(typed, [TLS_INSPECTOR]);
      typed.message.accept(
        "enable_ja3_fingerprinting",
        "enable_ja4_fingerprinting",
        "initial_read_buffer_size",
        "max_client_hello_size",
        "close_connection_on_client_hello_parsing_errors",
      );
      typed.message.finish();
    } else if (!TLS_INSPECTOR_NAMES.has(name))
      f.fail(
        `unsupported listener filter ${JSON.stringify(name)} (supported: envoy.filters.listener.tls_inspector)`,
      );
    tlsInspector = true;
  }
  return tlsInspector;
}

/** Envoy's verifyNoDuplicateMatchers: two chains with the same match are a config error. */
export function checkDistinctMatches(chains: FilterChainConfig[]): void {
  const seen = new Map<string, FilterChainConfig>();
  for (const c of chains) {
    const key = JSON.stringify({
      ...c.match,
      serverNames: [...c.match.serverNames].sort(),
      applicationProtocols: [...c.match.applicationProtocols].sort(),
      prefixRanges: c.match.prefixRanges.map((r) => r.text).sort(),
      directSourcePrefixRanges: c.match.directSourcePrefixRanges.map((r) => r.text).sort(),
      sourcePrefixRanges: c.match.sourcePrefixRanges.map((r) => r.text).sort(),
      sourcePorts: [...c.match.sourcePorts].sort((a, b) => a - b),
    });
    const other = seen.get(key);
    if (other)
      throw new ConfigError(
        c.path,
        `filter chain ${JSON.stringify(c.name)} has the same filter_chain_match as ${JSON.stringify(other.name)} (${other.path})`,
      );
    seen.set(key, c);
  }
}

/** Cluster references of the chains after the first (the bootstrap reader checks the first one's). */
export function chainClusterReferences(chain: FilterChainConfig): Array<{ cluster: string; path: string }> {
  const refs: Array<{ cluster: string; path: string }> = [];
  for (const p of [...chain.networkWasmFilters, ...(chain.http?.wasmFilters ?? [])])
    if (p.code.kind === "remote")
      refs.push({ cluster: p.code.cluster!, path: `${p.code.path}.remote.http_uri.cluster` });
  if (chain.tcp) {
    if (chain.tcp.weightedClusters)
      for (const c of chain.tcp.weightedClusters)
        refs.push({ cluster: c.name, path: `${chain.tcp.path}.weighted_clusters` });
    else refs.push({ cluster: chain.tcp.cluster, path: `${chain.tcp.path}.cluster` });
  }
  for (const vh of chain.http?.routeTable.virtualHosts ?? [])
    for (const r of vh.routes) {
      if (r.action.kind !== "route") continue;
      const t = r.action.route.target;
      if (t.kind === "cluster") refs.push({ cluster: t.cluster, path: `${r.path}.route.cluster` });
      if (t.kind === "weighted_clusters")
        for (const [i, c] of t.clusters.entries())
          refs.push({ cluster: c.name, path: `${r.path}.route.weighted_clusters.clusters[${i}].name` });
    }
  return refs;
}
