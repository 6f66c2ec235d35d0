/** `envoy.config.cluster.v3.Cluster`: STATIC / STRICT_DNS / LOGICAL_DNS, round robin, TLS, HTTP/2. */
import { readDataSourceText } from "./data-source.ts";
import type { ConfigMessage, ConfigValue } from "./fields.ts";
import type { ClusterConfig, DnsFamily, SocketAddress, TlsUpstreamConfig } from "./model.ts";
import { readAddress } from "./socket-address.ts";
import { expectType, readTypedConfig } from "./typed-config.ts";

function readEndpoints(value: ConfigValue, clusterName: string): SocketAddress[] {
  const la = value.message();
  const name = la.optional("cluster_name")?.string();
  if (name !== undefined && name !== clusterName) {
    la.optional("cluster_name")!.fail(`must equal the cluster's name ${JSON.stringify(clusterName)}`);
  }
  const result: SocketAddress[] = [];
  for (const group of la.optional("endpoints")?.list() ?? []) {
    const g = group.message();
    g.accept("locality", "load_balancing_weight", "priority");
    for (const lb of g.optional("lb_endpoints")?.list() ?? []) {
      const l = lb.message();
      const endpoint = l.required("endpoint").message();
      result.push(readAddress(endpoint.required("address")));
      endpoint.accept("hostname");
      endpoint.finish();
      l.accept("load_balancing_weight", "health_status", "metadata");
      l.finish();
    }
    g.finish();
  }
  la.accept("policy");
  la.finish();
  return result;
}

function readTls(value: ConfigValue, baseDir: string): TlsUpstreamConfig {
  const socket = value.message();
  const name = socket.optional("name")?.string();
  const typedValue = socket.optional("typed_config");
  socket.finish();
  if (!typedValue) {
    if (name === "envoy.transport_sockets.tls") return {};
    return socket.fail("expected typed_config with an UpstreamTlsContext");
  }
  const typed = readTypedConfig(typedValue);
  if (typed.type === "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer") return { sni: "\0raw" };
  expectType(typed, ["envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"]);
  const m = typed.message;
  const tls: TlsUpstreamConfig = {};
  const sni = m.optional("sni")?.string();
  if (sni) tls.sni = sni;
  const common = m.optional("common_tls_context")?.message();
  if (common) {
    const alpn = common
      .optional("alpn_protocols")
      ?.list()
      .map((v) => v.string());
    if (alpn) tls.alpn = alpn;
    const validation = common.optional("validation_context")?.message();
    if (validation) {
      const ca = validation.optional("trusted_ca");
      if (ca) tls.trustedCa = readDataSourceText(ca, baseDir);
      validation.finish();
    }
    const certs = common.optional("tls_certificates")?.list() ?? [];
    if (certs.length > 1) common.fail("at most one tls_certificates entry is supported");
    if (certs[0]) {
      const c = certs[0].message();
      tls.certificateChain = readDataSourceText(c.required("certificate_chain"), baseDir);
      tls.privateKey = readDataSourceText(c.required("private_key"), baseDir);
      c.finish();
    }
    common.accept("tls_params");
    common.finish();
  }
  m.accept("allow_renegotiation");
  m.finish();
  return tls;
}

/**
 * `typed_extension_protocol_options` → the upstream protocol: `explicit_http_config` picks HTTP/1.1 or HTTP/2;
 * `use_downstream_protocol_config` follows the downstream request, with HTTP/2 for requests without a
 * downstream protocol when it lists `http2_protocol_options` (http_protocol_options_impl.cc
 * ProtocolOptionsConfigImpl sets use_http2_ and use_downstream_protocol_).
 */
function readProtocolOptions(value: ConfigValue): { http2: boolean; useDownstreamProtocol: boolean } {
  let http2 = false;
  let useDownstreamProtocol = false;
  for (const [key, entry] of value.entries()) {
    if (key !== "envoy.extensions.upstreams.http.v3.HttpProtocolOptions") {
      entry.fail("only envoy.extensions.upstreams.http.v3.HttpProtocolOptions is supported");
    }
    const typed = readTypedConfig(entry);
    expectType(typed, ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]);
    const m = typed.message;
    const [kind, config] = m.oneOf(["explicit_http_config", "use_downstream_protocol_config"], false) ?? [];
    const options = config?.message();
    if (kind === "explicit_http_config") {
      const [protocol] = options!.oneOf(["http_protocol_options", "http2_protocol_options"])!;
      http2 = protocol === "http2_protocol_options";
    } else if (kind === "use_downstream_protocol_config") {
      useDownstreamProtocol = true;
      options!.accept("http_protocol_options");
      http2 = options!.optional("http2_protocol_options") !== undefined;
    }
    options?.finish();
    m.accept("common_http_protocol_options", "upstream_http_protocol_options");
    m.finish();
  }
  return { http2, useDownstreamProtocol };
}

export function readCluster(value: ConfigValue, baseDir: string): ClusterConfig {
  const c: ConfigMessage = value.message();
  const name = c.required("name").nonEmptyString();
  const type = c.optional("type")?.oneOf(["STATIC", "STRICT_DNS", "LOGICAL_DNS"]) ?? "STATIC";
  const connectTimeoutMs = c.optional("connect_timeout")?.durationMs() ?? 5000;
  const lb = c.optional("lb_policy");
  if (lb) lb.oneOf(["ROUND_ROBIN"]);
  const dnsFamily = (c
    .optional("dns_lookup_family")
    ?.oneOf(["AUTO", "V4_ONLY", "V6_ONLY", "V4_PREFERRED", "ALL"]) ?? "AUTO") as DnsFamily;
  const dnsRefreshMs = c.optional("dns_refresh_rate")?.durationMs() ?? 5000;
  const la = c.optional("load_assignment");
  const endpoints = la ? readEndpoints(la, name) : [];
  if (type === "LOGICAL_DNS" && endpoints.length !== 1) {
    (la ?? value).fail(`a LOGICAL_DNS cluster takes exactly one endpoint, got ${endpoints.length}`);
  }
  const ts = c.optional("transport_socket");
  let tls = ts ? readTls(ts, baseDir) : undefined;
  if (tls?.sni === "\0raw") tls = undefined;
  let http2 = false;
  const h2 = c.optional("http2_protocol_options");
  if (h2) {
    const options = h2.message();
    options.accept("max_concurrent_streams", "initial_stream_window_size", "initial_connection_window_size");
    options.finish();
    http2 = true;
  }
  let useDownstreamProtocol = false;
  const tepo = c.optional("typed_extension_protocol_options");
  if (tepo) {
    const protocol = readProtocolOptions(tepo);
    http2 = protocol.http2 || http2;
    useDownstreamProtocol = protocol.useDownstreamProtocol;
  }
  let idleTimeoutMs = 3_600_000;
  const common = c.optional("common_http_protocol_options")?.message();
  if (common) {
    idleTimeoutMs = common.optional("idle_timeout")?.durationMs() ?? idleTimeoutMs;
    common.finish();
  }
  c.accept("respect_dns_ttl");
  c.finish();
  return {
    name,
    type,
    connectTimeoutMs,
    endpoints,
    dnsFamily,
    dnsRefreshMs,
    ...(tls ? { tls } : {}),
    http2,
    useDownstreamProtocol,
    idleTimeoutMs,
    path: value.path,
  };
}
