// Parses Envoy's `source.address` values: "10.0.0.1:42148", "[2001:db8::7]:42148", and the same
// without a port (pipes and some listeners report a bare address). Bytes, not text, decide routing,
// so "::ffff:10.0.0.11" and "10.0.0.11" route alike.

/** An IP address (4 or 16 bytes) and the port that came with it (-1 when none). */
export class IpAddress {
  constructor(
    readonly bytes: Uint8Array,
    readonly port: i32,
  ) {}

  get isV4(): bool {
    return this.bytes.length == 4;
  }

  /** The last byte: the IPv4 last octet, or the low byte of IPv6's last hex group. */
  get lastByte(): u8 {
    return this.bytes[this.bytes.length - 1];
  }
}

function hexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Dotted-quad IPv4 into `out` at `offset`; false when malformed. */
function parseIpv4Into(text: string, out: Uint8Array, offset: i32): bool {
  const parts = text.split(".");
  if (parts.length != 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (part.length == 0 || part.length > 3) return false;
    let value = 0;
    for (let j = 0; j < part.length; j++) {
      const c = part.charCodeAt(j);
      if (c < 48 || c > 57) return false;
      value = value * 10 + (c - 48);
    }
    if (value > 255) return false;
    out[offset + i] = <u8>value;
  }
  return true;
}

/** Parses one side of "::" into 16-bit groups; null when malformed. */
function parseGroups(text: string, allowIpv4Tail: bool): Array<u16> | null {
  const groups = new Array<u16>();
  if (text.length == 0) return groups;
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (allowIpv4Tail && i == parts.length - 1 && part.includes(".")) {
      // Embedded IPv4 (e.g. ::ffff:10.0.0.1) stands for the last two groups.
      const v4 = new Uint8Array(4);
      if (!parseIpv4Into(part, v4, 0)) return null;
      groups.push((<u16>v4[0] << 8) | v4[1]);
      groups.push((<u16>v4[2] << 8) | v4[3]);
      continue;
    }
    if (part.length == 0 || part.length > 4) return null;
    let value = 0;
    for (let j = 0; j < part.length; j++) {
      const d = hexValue(part.charCodeAt(j));
      if (d < 0) return null;
      value = (value << 4) | d;
    }
    groups.push(<u16>value);
  }
  return groups;
}

function parseIpv6(input: string): Uint8Array | null {
  let text = input;
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.substring(0, zone); // link-local zone ids do not change the address
  const out = new Uint8Array(16);
  const gap = text.indexOf("::");
  let head: Array<u16> | null;
  let tail: Array<u16> | null;
  if (gap >= 0) {
    if (text.indexOf("::", gap + 1) >= 0) return null;
    head = parseGroups(text.substring(0, gap), false);
    tail = parseGroups(text.substring(gap + 2), true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
  } else {
    head = parseGroups(text, true);
    tail = new Array<u16>();
    if (head === null || head.length != 8) return null;
  }
  for (let i = 0; i < head.length; i++) {
    out[i * 2] = <u8>(head[i] >> 8);
    out[i * 2 + 1] = <u8>head[i];
  }
  const start = 8 - tail.length;
  for (let i = 0; i < tail.length; i++) {
    out[(start + i) * 2] = <u8>(tail[i] >> 8);
    out[(start + i) * 2 + 1] = <u8>tail[i];
  }
  return out;
}

function parsePort(text: string): i32 {
  if (text.length == 0 || text.length > 5) return -2;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -2;
    value = value * 10 + (c - 48);
  }
  return value > 65535 ? -2 : value;
}

/** "::ffff:a.b.c.d" is an IPv4 peer on a dual-stack socket: route it as the IPv4 address. */
function unmapIpv4(v6: Uint8Array): Uint8Array {
  for (let i = 0; i < 10; i++) if (v6[i] != 0) return v6;
  if (v6[10] != 0xff || v6[11] != 0xff) return v6;
  return v6.slice(12);
}

/** Parses an address with or without port; null when it is not an IP address. */
export function parseIpAddress(text: string): IpAddress | null {
  if (text.length == 0 || text.length > 64) return null;
  let host = text;
  let port = -1;
  if (text.charCodeAt(0) == 91) {
    // "[v6]" or "[v6]:port"
    const close = text.indexOf("]");
    if (close < 0) return null;
    host = text.substring(1, close);
    const rest = text.substring(close + 1);
    if (rest.length > 0) {
      if (rest.charCodeAt(0) != 58) return null;
      port = parsePort(rest.substring(1));
      if (port < 0) return null;
    }
    const v6 = parseIpv6(host);
    return v6 === null ? null : new IpAddress(unmapIpv4(v6), port);
  }
  const firstColon = text.indexOf(":");
  if (firstColon >= 0 && text.lastIndexOf(":") == firstColon) {
    // exactly one colon: "v4:port"
    host = text.substring(0, firstColon);
    port = parsePort(text.substring(firstColon + 1));
    if (port < 0) return null;
  } else if (firstColon >= 0) {
    const v6 = parseIpv6(text);
    return v6 === null ? null : new IpAddress(unmapIpv4(v6), -1);
  }
  const v4 = new Uint8Array(4);
  return parseIpv4Into(host, v4, 0) ? new IpAddress(v4, port) : null;
}
