/**
 * Envoy attributes of one stream or connection, as the host's property bag. Values are getters so plugins
 * see the current state (the upstream host once chosen, the route after clear_route_cache).
 */
import type { Properties, PropertyValue } from "@proxy-wasm-ts/host";
import type { SelectedRoute } from "../http/route-table.ts";
import type { StreamInfo } from "../stream-info.ts";

function port(address: string): number | undefined {
  const i = address.lastIndexOf(":");
  const n = Number(address.slice(i + 1));
  return i > 0 && Number.isInteger(n) ? n : undefined;
}

/** Where route attributes come from (the HTTP stream; TCP connections have none). */
export interface RouteView {
  route(): SelectedRoute | undefined;
}

/** Converts JSON (node metadata, route metadata) to property values (null becomes an empty string). */
export function jsonToProperty(value: unknown): PropertyValue {
  if (value === null || value === undefined) return "";
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map(jsonToProperty);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonToProperty(v)]),
  );
}

type Attribute = (info: StreamInfo, route: RouteView | undefined) => PropertyValue | undefined;

/** Attribute name -> how to read it. Shared by every stream; values are computed when a plugin asks. */
const ATTRIBUTES = new Map<string, Attribute>([
  ["source.address", (i) => i.downstreamRemoteAddress],
  // "HTTP/1.0" or "HTTP/1.1" as the client spoke it (the host alone would say HTTP/1.1).
  ["request.protocol", (i) => i.protocol],
  ["source.port", (i) => port(i.downstreamRemoteAddress)],
  ["destination.address", (i) => i.downstreamLocalAddress],
  ["destination.port", (i) => port(i.downstreamLocalAddress)],
  ["connection.id", (i) => BigInt(i.connectionId)],
  // expr/context.cc ConnectionWrapper: mtls and requested_server_name always; the rest only on TLS
  // (extractSslInfo), the SAN ones only when the certificate has one (the first), the digest when non-empty.
  ["connection.mtls", (i) => i.downstreamSsl?.peerCertificatePresented ?? false],
  ["connection.requested_server_name", (i) => i.requestedServerName],
  ["connection.tls_version", (i) => i.downstreamSsl?.tlsVersion],
  ["connection.subject_local_certificate", (i) => i.downstreamSsl?.subjectLocalCertificate],
  ["connection.subject_peer_certificate", (i) => i.downstreamSsl?.subjectPeerCertificate],
  ["connection.dns_san_local_certificate", (i) => i.downstreamSsl?.dnsSansLocalCertificate[0]],
  ["connection.dns_san_peer_certificate", (i) => i.downstreamSsl?.dnsSansPeerCertificate[0]],
  ["connection.uri_san_local_certificate", (i) => i.downstreamSsl?.uriSansLocalCertificate[0]],
  ["connection.uri_san_peer_certificate", (i) => i.downstreamSsl?.uriSansPeerCertificate[0]],
  [
    "connection.sha256_peer_certificate_digest",
    (i) => i.downstreamSsl?.sha256PeerCertificateDigest || undefined,
  ],
  ["upstream.address", (i) => i.upstreamHost],
  ["upstream.port", (i) => (i.upstreamHost ? port(i.upstreamHost) : undefined)],
  ["upstream.local_address", (i) => i.upstreamLocalAddress],
  ["upstream.transport_failure_reason", (i) => i.upstreamTransportFailureReason || undefined],
  ["xds.cluster_name", (i) => i.upstreamCluster],
  ["cluster_name", (i) => i.upstreamCluster],
  ["xds.listener_direction", (i) => BigInt(i.listener.direction)],
  ["listener_direction", (i) => BigInt(i.listener.direction)],
  ["response.code_details", (i) => i.responseCodeDetails || undefined],
  ["connection.termination_details", (i) => i.connectionTerminationDetails || undefined],
  ["xds.route_name", (_, r) => r?.route()?.route.name],
  ["route_name", (_, r) => r?.route()?.route.name],
  ["xds.virtual_host_name", (_, r) => r?.route()?.virtualHost.name],
  [
    "xds.route_metadata",
    (_, r) => {
      const m = r?.route()?.route.metadata;
      return m ? jsonToProperty({ filter_metadata: m }) : undefined;
    },
  ],
]);

interface Source {
  info: StreamInfo;
  route: RouteView | undefined;
}

/**
 * A Proxy rather than an object with 20 getters: building one per request is a single allocation, and the
 * host only looks attributes up when a plugin reads one (`Object.hasOwn` then a read, both trapped here).
 */
const HANDLER: ProxyHandler<Source> = {
  getOwnPropertyDescriptor(target, key) {
    const read = typeof key === "string" ? ATTRIBUTES.get(key) : undefined;
    if (!read) return undefined;
    const value = read(target.info, target.route);
    return value === undefined ? undefined : { value, enumerable: true, configurable: true, writable: false };
  },
  get(target, key) {
    const read = typeof key === "string" ? ATTRIBUTES.get(key) : undefined;
    return read ? read(target.info, target.route) : undefined;
  },
  has(_target, key) {
    return typeof key === "string" && ATTRIBUTES.has(key);
  },
  ownKeys() {
    return [...ATTRIBUTES.keys()];
  },
};

export function streamProperties(info: StreamInfo, route?: RouteView): Properties {
  return new Proxy({ info, route }, HANDLER) as unknown as Properties;
}
