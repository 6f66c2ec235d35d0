import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/**
 * True when every address `host` stands for is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.x.x), so only
 * this machine can connect. A name is resolved the way listening resolves it; `0.0.0.0` and `::` are not loopback.
 */
export async function isLoopbackHost(host: string): Promise<boolean> {
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch (error) {
      throw new Error(`cannot resolve the listen host ${JSON.stringify(host)}: ${(error as Error).message}`);
    }
  }
  return addresses.length > 0 && addresses.every(isLoopbackAddress);
}

/** True for an IPv4 or IPv6 loopback address, in any spelling. */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return address.startsWith("127.");
  if (family !== 6) return false;
  let canonical: string;
  try {
    // The URL parser writes IPv6 in its shortest form: "0:0:0:0:0:0:0:1" -> "[::1]", "::ffff:127.0.0.1" -> "[::ffff:7f00:1]".
    canonical = new URL(`http://[${address}]/`).hostname;
  } catch {
    return false; // a scoped address (fe80::1%eth0) is link-local, never loopback
  }
  return canonical === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}
