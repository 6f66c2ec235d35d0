/**
 * What the listener stage learned of a connection before handing it to its filter chain: the SNI the
 * tls_inspector read (Envoy's requestedServerName, set by the listener filter) and, behind a TLS transport
 * socket, the TLS connection. The chain's connection manager or tcp_proxy reads them into each StreamInfo.
 */
import type { Socket } from "node:net";
import type { DownstreamSslInfo } from "../tls/downstream-ssl-info.ts";

export interface ConnectionFacts {
  /** "" when no tls_inspector read one. */
  requestedServerName: string;
  ssl: DownstreamSslInfo | undefined;
}

const NONE: ConnectionFacts = { requestedServerName: "", ssl: undefined };
const facts = new WeakMap<Socket, ConnectionFacts>();

export function recordConnectionFacts(socket: Socket, found: ConnectionFacts): void {
  facts.set(socket, found);
}

/** The facts of the socket a chain was handed (none for a listener without the listener stage). */
export function connectionFacts(socket: Socket): ConnectionFacts {
  return facts.get(socket) ?? NONE;
}
