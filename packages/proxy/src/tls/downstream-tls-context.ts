/**
 * A filter chain's DownstreamTlsContext at run time, on node:tls:
 * - one SecureContext per certificate, and the one a client's SNI picks as Envoy's
 *   DefaultTlsCertificateSelector::findTlsContext does: a certificate whose DNS SANs (its CN when it has
 *   none) name the SNI exactly, else one naming the wildcard one label up (`*.example.com`), else the first
 *   certificate, also for a client that sends no SNI. (Envoy also prefers an ECDSA certificate among the
 *   matches when the client can use one; node does not show the client's signature algorithms, so the first
 *   match in config order serves.)
 * - client certificates as Envoy's ServerContextImpl sets them up: with a `trusted_ca` they are requested
 *   and verified against it (DefaultCertValidator::addClientValidationContext), required when
 *   `require_client_certificate` says so; without a `trusted_ca` none is requested, whatever
 *   `require_client_certificate` says.
 */
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext, type TLSSocket } from "node:tls";
import type { DownstreamTlsConfig } from "../config/filter-chain-config.ts";
import { commonName, subjectAltNames } from "./x509-names.ts";

interface CertificateContext {
  context: SecureContext;
  /** Lower-cased DNS names the certificate serves (`*.example.com` kept as written). */
  names: string[];
}

function certificateNames(pem: string): string[] {
  const x509 = new X509Certificate(pem);
  const dns = subjectAltNames(x509.subjectAltName, "DNS");
  const names = dns.length > 0 ? dns : [commonName(x509.subject) ?? ""];
  return names.filter((n) => n !== "").map((n) => n.toLowerCase());
}

export class DownstreamTlsContext {
  private readonly certificates: CertificateContext[];
  /** alpn_protocols, or undefined when the chain offers no ALPN. */
  readonly alpn: string[] | undefined;
  /** Client certificates are requested (a trusted_ca is configured). */
  readonly requestsClientCertificate: boolean;
  readonly requiresClientCertificate: boolean;

  constructor(config: DownstreamTlsConfig) {
    const ca = config.trustedCa !== undefined ? { ca: config.trustedCa } : {};
    this.certificates = config.certificates.map((c) => ({
      context: createSecureContext({ cert: c.certificateChain, key: c.privateKey, ...ca }),
      names: certificateNames(c.certificateChain),
    }));
    this.alpn = config.alpnProtocols.length > 0 ? config.alpnProtocols : undefined;
    this.requestsClientCertificate = config.trustedCa !== undefined;
    this.requiresClientCertificate = this.requestsClientCertificate && config.requireClientCertificate;
  }

  /** The certificate context for a client's SNI (see above). */
  select(serverName: string): SecureContext {
    const sni = serverName.toLowerCase();
    const named = (name: string) => this.certificates.find((c) => c.names.includes(name));
    const dot = sni.indexOf(".");
    const hit = (sni && named(sni)) || (dot > 0 ? named(`*${sni.slice(dot)}`) : undefined);
    return (hit ?? this.certificates[0]!).context;
  }

  /** node:tls options for the server side of one connection, with the one ALPN protocol chosen (if any). */
  socketOptions(alpn: string | undefined): ConstructorParameters<typeof TLSSocket>[1] {
    return {
      isServer: true,
      secureContext: this.certificates[0]!.context,
      SNICallback: (serverName, done) => done(null, this.select(serverName)),
      // A required certificate fails the handshake itself; an optional one is checked once it is done.
      requestCert: this.requestsClientCertificate,
      rejectUnauthorized: this.requiresClientCertificate,
      ...(alpn ? { ALPNProtocols: [alpn] } : {}),
    };
  }

  /**
   * After the handshake: the Envoy `ssl.` stat that refuses the connection, or undefined to accept it. A
   * client certificate that does not verify against the trusted_ca is refused (ssl.fail_verify_error);
   * none at all fails the handshake itself when required (`handshakeFailure`), and is accepted otherwise.
   */
  refusal(tls: TLSSocket): "fail_verify_error" | undefined {
    if (!this.requestsClientCertificate || tls.getPeerX509Certificate() === undefined) return undefined;
    return verifyError(tls) ? "fail_verify_error" : undefined;
  }

  /** The Envoy `ssl.` stat of a failed handshake. */
  handshakeFailure(err: NodeJS.ErrnoException): "fail_verify_no_cert" | "connection_error" {
    return err.code === "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"
      ? "fail_verify_no_cert"
      : "connection_error";
  }
}

/**
 * node's verdict on the client's certificate chain. node's certificate callback accepts every chain during
 * the handshake and decides afterwards from the TLS handle's verifyError(); for sockets of a tls.Server that
 * sets `authorized`, but a server-side TLSSocket made on its own (as here, to choose ALPN as Envoy does) gets
 * no verdict, so it is read the way node's own tls.Server reads it.
 */
function verifyError(tls: TLSSocket): Error | null {
  const handle = (tls as unknown as { ssl?: { verifyError?: () => Error | null } }).ssl;
  if (typeof handle?.verifyError !== "function")
    throw new Error("node:tls gives no client-certificate verdict (TLSSocket.ssl.verifyError is gone)");
  return handle.verifyError();
}
