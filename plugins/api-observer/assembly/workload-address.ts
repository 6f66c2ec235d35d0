// Envoy addresses ("10.0.0.1:8080", "[2001:db8::1]:8080", bare addresses, pipe paths) split into the
// ip and port the event's workloads carry. The seed split on ':' and broke every IPv6 address.
// The ingestion service rejects a batch holding a non-IP `ip`, so anything that does not parse as an
// IP address becomes "".

import { parseIpAddress } from "../../shared-assembly/ip-address";

export class HostPort {
  constructor(
    readonly ip: string,
    readonly port: i32,
  ) {}
}

export function splitAddress(address: string | null): HostPort {
  if (address === null) return new HostPort("", 0);
  const parsed = parseIpAddress(address);
  if (parsed === null) return new HostPort("", 0);
  let ip = address;
  if (ip.charCodeAt(0) == 91) ip = ip.substring(1, ip.indexOf("]"));
  else if (parsed.port >= 0) ip = ip.substring(0, ip.indexOf(":")); // "v4:port"; bare IPv6 stays whole
  const zone = ip.indexOf("%");
  if (zone >= 0) ip = ip.substring(0, zone);
  return new HostPort(ip, parsed.port >= 0 ? parsed.port : 0);
}

/**
 * `splitAddress` with a memory of the last address it split: the requests of one connection, and every
 * request to one upstream host, repeat the same address, and a `HostPort` never changes once made.
 */
export class AddressSplitter {
  private lastAddress: string | null = null;
  private lastResult: HostPort = new HostPort("", 0);

  split(address: string | null): HostPort {
    if (address === null) return splitAddress(null);
    const last = this.lastAddress;
    if (last !== null && last == address) return this.lastResult;
    const result = splitAddress(address);
    this.lastAddress = address;
    this.lastResult = result;
    return result;
  }
}
