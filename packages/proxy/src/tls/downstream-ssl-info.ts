/**
 * A downstream TLS connection as Envoy's Ssl::ConnectionInfo describes it (source/common/tls
 * connection_info_impl_base.cc): protocol version, whether the client presented a certificate, the subjects,
 * SANs and digest of both certificates. Read on first use and kept, as Envoy caches them.
 */
import { createHash, type X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { rfc2253Subject, subjectAltNames } from "./x509-names.ts";

export class DownstreamSslInfo {
  private local: X509Certificate | null | undefined;
  private peer: X509Certificate | null | undefined;

  constructor(private readonly socket: TLSSocket) {}

  private localCertificate(): X509Certificate | null {
    if (this.local === undefined) this.local = this.socket.getX509Certificate() ?? null;
    return this.local;
  }

  private peerCertificate(): X509Certificate | null {
    if (this.peer === undefined) this.peer = this.socket.getPeerX509Certificate() ?? null;
    return this.peer;
  }

  /** "TLSv1.3", "TLSv1.2", ... (SSL_get_version). */
  get tlsVersion(): string {
    return this.socket.getProtocol() ?? "";
  }

  get peerCertificatePresented(): boolean {
    return this.peerCertificate() !== null;
  }

  /** RFC 2253, "" without a certificate. */
  get subjectLocalCertificate(): string {
    return rfc2253Subject(this.localCertificate()?.subject);
  }

  get subjectPeerCertificate(): string {
    return rfc2253Subject(this.peerCertificate()?.subject);
  }

  get dnsSansLocalCertificate(): string[] {
    return subjectAltNames(this.localCertificate()?.subjectAltName, "DNS");
  }

  get dnsSansPeerCertificate(): string[] {
    return subjectAltNames(this.peerCertificate()?.subjectAltName, "DNS");
  }

  get uriSansLocalCertificate(): string[] {
    return subjectAltNames(this.localCertificate()?.subjectAltName, "URI");
  }

  get uriSansPeerCertificate(): string[] {
    return subjectAltNames(this.peerCertificate()?.subjectAltName, "URI");
  }

  /** Lower-case hex SHA-256 of the peer certificate's DER, "" without one. */
  get sha256PeerCertificateDigest(): string {
    const peer = this.peerCertificate();
    return peer ? createHash("sha256").update(peer.raw).digest("hex") : "";
  }
}
