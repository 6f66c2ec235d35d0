// Host names as the blocklist compares them: from an authority, lower case, no port, no trailing dot.

/**
 * `Api.Example.COM:8443` -> `api.example.com`, `[2001:db8::1]:443` -> `2001:db8::1`, `example.com.` ->
 * `example.com`. Anything after a malformed bracket stays as it is: it simply matches nothing.
 */
export function normalizeHost(authority: string): string {
  let host = authority.trim();
  // userinfo is not allowed in :authority over HTTP, but an absolute-form request line may carry it.
  const at = host.lastIndexOf("@");
  if (at >= 0) host = host.substring(at + 1);
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close > 0) host = host.substring(1, close);
  } else {
    const colon = host.indexOf(":");
    // One colon is a port; more than one without brackets is a bare IPv6 address, kept whole.
    if (colon >= 0 && host.indexOf(":", colon + 1) < 0) host = host.substring(0, colon);
  }
  while (host.endsWith(".") && host.length > 1) host = host.substring(0, host.length - 1);
  return lowerAscii(host);
}

// Host names are ASCII (IDNs travel as punycode); String#toLowerCase would add ~8 KB of Unicode tables.
function lowerAscii(text: string): string {
  let upper = false;
  for (let i = 0; i < text.length && !upper; i++) {
    const c = text.charCodeAt(i);
    upper = c >= 0x41 && c <= 0x5a;
  }
  if (!upper) return text;
  const codes = new Array<i32>(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    codes[i] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  }
  return String.fromCharCodes(codes);
}

/**
 * True when `host` ends with `suffix`. A suffix with a leading dot (`.example.com`) matches subdomains
 * only; one without (`example.com`) matches the name itself and its subdomains, never `badexample.com`.
 */
export function matchesSuffix(host: string, suffix: string): bool {
  if (suffix.startsWith(".")) return host.endsWith(suffix);
  if (host == suffix) return true;
  return host.endsWith(suffix) && host.charCodeAt(host.length - suffix.length - 1) == 0x2e;
}
