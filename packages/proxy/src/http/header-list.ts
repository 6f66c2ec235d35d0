/**
 * Header lists as the data plane carries them: ordered `[name, value]` pairs, names lower-case,
 * pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`, `:status`) first, as in Envoy's header maps.
 */
export type HeaderList = Array<[string, string]>;

export function getHeader(headers: HeaderList, name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/** All values of `name` joined with "," (what Envoy's %REQ()% and header properties return). */
export function getJoinedHeader(headers: HeaderList, name: string): string | undefined {
  let out: string | undefined;
  for (const [n, v] of headers) if (n === name) out = out === undefined ? v : `${out},${v}`;
  return out;
}

export function setHeader(headers: HeaderList, name: string, value: string): void {
  let found = false;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]![0] !== name) continue;
    if (!found) {
      headers[i]![1] = value;
      found = true;
    } else {
      headers.splice(i, 1);
      i--;
    }
  }
  if (!found) headers.push([name, value]);
}

export function removeHeader(headers: HeaderList, name: string): void {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === name) headers.splice(i, 1);
}

/** Connection-specific headers a proxy must not forward (RFC 9110 §7.6.1), which Envoy strips. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
]);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/** Applies `request_headers_to_add`-style options. */
export function applyHeaderOptions(
  headers: HeaderList,
  options: ReadonlyArray<{ name: string; value: string; action: string }>,
  expand: (value: string) => string,
): void {
  for (const o of options) {
    const value = expand(o.value);
    const present = headers.some(([n]) => n === o.name);
    switch (o.action) {
      case "append":
        headers.push([o.name, value]);
        break;
      case "add_if_absent":
        if (!present) headers.push([o.name, value]);
        break;
      case "overwrite_or_add":
        setHeader(headers, o.name, value);
        break;
      default:
        if (present) setHeader(headers, o.name, value);
    }
  }
}
