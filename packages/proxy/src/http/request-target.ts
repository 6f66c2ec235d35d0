/**
 * The HTTP/1 codec's reading of the request-target (http1/codec_impl.cc ServerConnectionImpl::handlePath):
 * origin-form (`/path`) and `OPTIONS *` are the path as they are; with `allow_absolute_url` (Envoy's default)
 * an absolute-form target (`http://host:port/path`, what clients send to a forward proxy) gives the
 * authority, the scheme and the path, and the Host header is ignored (RFC 9112 §3.2.2).
 */

export type RequestTarget =
  | { kind: "origin"; path: string }
  | { kind: "absolute"; scheme: string; authority: string; path: string }
  /** The codec's 400: `http1.invalid_url` or `http1.invalid_scheme`. */
  | { kind: "invalid"; details: "http1.invalid_url" | "http1.invalid_scheme" };

/**
 * http_parser_parse_url's grammar, as Utility::Url::initialize (common/http/utility.cc) uses it: a scheme of
 * letters, `//`, optional userinfo, a host (name or [IPv6]) and an optional port up to 65535, then the rest.
 */
const ABSOLUTE_URL =
  /^([A-Za-z]+):\/\/(?:[^/?#@[\]]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d+))?([/?#].*)?$/s;

export function parseRequestTarget(target: string, method: string, allowAbsoluteUrl: boolean): RequestTarget {
  if (target[0] === "/" || (method === "OPTIONS" && target[0] === "*"))
    return { kind: "origin", path: target };
  // Without allow_absolute_url the target is kept as the path (and the connection manager answers 404).
  if (!allowAbsoluteUrl) return { kind: "origin", path: target };
  const m = ABSOLUTE_URL.exec(target);
  if (!m || (m[3] !== undefined && Number(m[3]) > 0xffff))
    return { kind: "invalid", details: "http1.invalid_url" };
  // allow_absolute_url_with_mixed_scheme: the scheme is lower-cased, then only http and https are valid.
  const scheme = m[1]!.toLowerCase();
  if (scheme !== "http" && scheme !== "https") return { kind: "invalid", details: "http1.invalid_scheme" };
  const authority = m[3] !== undefined ? `${m[2]}:${m[3]}` : m[2]!;
  // "RFC allows the absolute-uri to not end in /": no path means "/".
  return { kind: "absolute", scheme, authority, path: m[4] || "/" };
}
