/**
 * The `envoy.filters.listener.tls_inspector` listener filter's ClientHello reading
 * (source/extensions/filters/listener/tls_inspector/tls_inspector.cc Filter::onData / parseClientHello,
 * onServername, onALPN): whether the connection starts with a TLS ClientHello, and its SNI and ALPN. The bytes
 * are only looked at; the listener hands them on unread (Envoy peeks with MSG_PEEK).
 */

/** Envoy's default max_client_hello_size (TLS_MAX_CLIENT_HELLO). */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024;

export type ClientHelloResult =
  | { kind: "need-more" }
  /** Not a TLS ClientHello (plaintext): Envoy's tls_not_found, the transport stays raw_buffer. */
  | { kind: "not-tls" }
  | { kind: "too-large" }
  | { kind: "tls"; serverName: string; applicationProtocols: string[] };

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  has(n: number): boolean {
    return this.pos + n <= this.buf.length;
  }
  u8(): number {
    return this.buf[this.pos++]!;
  }
  u16(): number {
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  bytes(n: number): Buffer {
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

/** The handshake bytes of the leading TLS handshake records, or why there are none (yet). */
function handshakeBytes(data: Buffer): Buffer | "not-tls" | "need-more" {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos + 5 <= data.length) {
    // A TLS record: content type 22 (handshake), version 3.x, 16-bit length.
    if (data[pos] !== 22 || data[pos + 1] !== 3) return parts.length > 0 ? Buffer.concat(parts) : "not-tls";
    const len = data.readUInt16BE(pos + 3);
    if (pos + 5 + len > data.length) break;
    parts.push(data.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
    const hs = Buffer.concat(parts);
    if (hs.length >= 4 && hs.length >= 4 + hs.readUIntBE(1, 3)) return hs;
  }
  if (data.length >= 1 && data[0] !== 22) return "not-tls";
  if (data.length >= 2 && data[1] !== 3) return "not-tls";
  return "need-more";
}

/** Looks at the bytes a connection sent so far. */
export function inspectClientHello(data: Buffer, maxBytes = MAX_CLIENT_HELLO_BYTES): ClientHelloResult {
  const hs = handshakeBytes(data);
  if (hs === "not-tls") return { kind: "not-tls" };
  if (hs === "need-more") return data.length >= maxBytes ? { kind: "too-large" } : { kind: "need-more" };
  // Handshake type 1: ClientHello. Anything else first is not a client starting TLS.
  if (hs[0] !== 1) return { kind: "not-tls" };
  const r = new Reader(hs.subarray(4, 4 + hs.readUIntBE(1, 3)));
  try {
    r.bytes(2 + 32); // client_version, random
    r.bytes(r.u8()); // session_id
    r.bytes(r.u16()); // cipher_suites
    r.bytes(r.u8()); // compression_methods
    let serverName = "";
    let applicationProtocols: string[] = [];
    if (r.has(2)) {
      const ext = new Reader(r.bytes(r.u16()));
      while (ext.has(4)) {
        const type = ext.u16();
        const body = new Reader(ext.bytes(ext.u16()));
        if (type === 0 && body.has(2)) {
          // server_name: a list of (type, name); host_name is type 0.
          const list = new Reader(body.bytes(body.u16()));
          while (list.has(3)) {
            const nameType = list.u8();
            const name = list.bytes(list.u16()).toString("latin1");
            if (nameType === 0 && !serverName) serverName = name.toLowerCase();
          }
        } else if (type === 16 && body.has(2)) {
          // application_layer_protocol_negotiation: a list of length-prefixed names (onALPN).
          const list = new Reader(body.bytes(body.u16()));
          const protocols: string[] = [];
          while (list.has(1)) {
            const n = list.u8();
            if (n === 0 || !list.has(n)) break;
            protocols.push(list.bytes(n).toString("latin1"));
          }
          applicationProtocols = protocols;
        }
      }
    }
    return { kind: "tls", serverName, applicationProtocols };
  } catch {
    // A malformed ClientHello: BoringSSL fails it before the SNI callback, so Envoy sees no TLS.
    return { kind: "not-tls" };
  }
}
