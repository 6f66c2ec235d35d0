/**
 * Names out of node's X509Certificate text, in the forms Envoy's TLS code gives them (source/common/tls
 * utility.cc getSubjectAltNames / getSubjectFromCertificate). Hand-written: node offers the certificate's
 * fields only as text (`subjectAltName`, `subject`), and no npm library keeps OpenSSL's escaping as is.
 */

/** One entry of node's `subjectAltName`: `DNS:a.test`, or quoted when it holds a comma (`DNS:"a,b"`). */
const SAN_ENTRY = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;

/** The SAN values of one kind ("DNS", "URI", "IP Address", ...), in certificate order. */
export function subjectAltNames(text: string | undefined, kind: string): string[] {
  const out: string[] = [];
  if (!text) return out;
  for (const m of text.matchAll(SAN_ENTRY)) {
    if (m[1] !== kind) continue;
    const raw = m[2]!;
    out.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return out;
}

/**
 * node's multi-line subject (`C=US\nO=Org\nCN=name`, certificate order, multi-valued RDNs joined with " + ")
 * as RFC 2253 (X509_NAME_print_ex with XN_FLAG_RFC2253): most specific first, comma-separated. Both escape
 * RFC 2253's special characters the same way; non-ASCII stays UTF-8 here where Envoy escapes it.
 */
export function rfc2253Subject(subject: string | undefined): string {
  if (!subject) return "";
  return subject
    .split("\n")
    .reverse()
    .map((rdn) => rdn.replaceAll(" + ", "+"))
    .join(",");
}

/** The subject's CN, or undefined. */
export function commonName(subject: string | undefined): string | undefined {
  return subject ? /^CN=(.*)$/m.exec(subject)?.[1] : undefined;
}
