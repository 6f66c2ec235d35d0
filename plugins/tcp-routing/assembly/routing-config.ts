// The plugin configuration and the routing decision it describes.
//
//   {"rule": "parity", "even_cluster": "egress-router1", "odd_cluster": "egress-router2"}
//   {"rule": "cidr", "routes": [{"cidr": "10.0.0.0/8", "cluster": "outbound|8080||a.ns.svc.cluster.local"}]}
//
// Parity looks at the last byte of the source address: the IPv4 last octet, or for IPv6 the low byte
// of the last hex group (same parity as the group itself). CIDR routes are tried in order; no match
// means no override.

import { JsonKind, JsonValue, parseJsonBytes } from "@proxy-wasm-ts/sdk/assembly";
import { IpAddress, parseIpAddress } from "../../shared-assembly/ip-address";

export const DEFAULT_EVEN_CLUSTER = "egress-router1";
export const DEFAULT_ODD_CLUSTER = "egress-router2";

/** One `cidr` route: addresses whose first `prefixLength` bits equal `network` go to `cluster`. */
class CidrRoute {
  constructor(
    readonly network: Uint8Array,
    readonly prefixLength: i32,
    readonly cluster: string,
  ) {}

  matches(address: IpAddress): bool {
    if (address.bytes.length != this.network.length) return false;
    let bits = this.prefixLength;
    for (let i = 0; bits > 0; i++) {
      const mask: u8 = bits >= 8 ? <u8>0xff : <u8>(0xff << <u8>(8 - bits));
      if ((address.bytes[i] & mask) != (this.network[i] & mask)) return false;
      bits -= 8;
    }
    return true;
  }
}

export class RoutingConfig {
  /** Why the configuration was rejected; empty when it is valid. */
  error: string = "";
  useCidr: bool = false;
  evenCluster: string = DEFAULT_EVEN_CLUSTER;
  oddCluster: string = DEFAULT_ODD_CLUSTER;
  routes: Array<CidrRoute> = new Array<CidrRoute>();

  /** The cluster for this source, or null for "keep the listener's default cluster". */
  clusterFor(address: IpAddress): string | null {
    if (!this.useCidr) return (address.lastByte & 1) == 0 ? this.evenCluster : this.oddCluster;
    for (let i = 0; i < this.routes.length; i++) {
      const route = this.routes[i];
      if (route.matches(address)) return route.cluster;
    }
    return null;
  }
}

function invalid(config: RoutingConfig, message: string): RoutingConfig {
  config.error = message;
  return config;
}

/** A cluster name: non-empty, no control characters (Istio's `outbound|8080||host` is fine). */
function clusterName(value: JsonValue | null): string | null {
  if (value === null || value.kind != JsonKind.String) return null;
  const name = value.stringValue;
  if (name.length == 0 || name.length > 256) return null;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) < 0x20) return null;
  return name;
}

function parseCidr(text: string, cluster: string): CidrRoute | null {
  const slash = text.indexOf("/");
  const address = parseIpAddress(slash < 0 ? text : text.substring(0, slash));
  if (address === null || address.port >= 0) return null;
  const maxBits = address.bytes.length * 8;
  let bits = maxBits;
  if (slash >= 0) {
    const digits = text.substring(slash + 1);
    if (digits.length == 0 || digits.length > 3) return null;
    bits = 0;
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (c < 48 || c > 57) return null;
      bits = bits * 10 + (c - 48);
    }
    if (bits > maxBits) return null;
  }
  return new CidrRoute(address.bytes, bits, cluster);
}

/** Reads the configuration; an empty one means parity with the default cluster names. */
export function parseRoutingConfig(bytes: ArrayBuffer): RoutingConfig {
  const config = new RoutingConfig();
  if (bytes.byteLength == 0) return config;
  const json = parseJsonBytes(bytes);
  if (json === null || !json.isObject) return invalid(config, "configuration is not a JSON object");
  const keys = json.keys!;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key != "rule" && key != "even_cluster" && key != "odd_cluster" && key != "routes") {
      return invalid(config, `unknown field "${key}" (expected rule, even_cluster, odd_cluster, routes)`);
    }
  }
  const rule = json.get("rule");
  if (rule !== null) {
    const name = rule.kind == JsonKind.String ? rule.stringValue : "";
    if (name == "cidr") config.useCidr = true;
    else if (name != "parity") return invalid(config, `rule must be "parity" or "cidr"`);
  }
  if (json.get("even_cluster") !== null) {
    const even = clusterName(json.get("even_cluster"));
    if (even === null) return invalid(config, "even_cluster must be a non-empty cluster name");
    config.evenCluster = even;
  }
  if (json.get("odd_cluster") !== null) {
    const odd = clusterName(json.get("odd_cluster"));
    if (odd === null) return invalid(config, "odd_cluster must be a non-empty cluster name");
    config.oddCluster = odd;
  }
  const routes = json.get("routes");
  if (routes !== null) {
    if (!routes.isArray) return invalid(config, "routes must be an array");
    for (let i = 0; i < routes.length; i++) {
      const route = routes.at(i)!;
      const cidr = route.getString("cidr");
      const cluster = clusterName(route.get("cluster"));
      if (cidr === null || cluster === null) {
        return invalid(config, `routes[${i}] needs "cidr" and "cluster" strings`);
      }
      const parsed = parseCidr(cidr, cluster);
      if (parsed === null) return invalid(config, `routes[${i}].cidr "${cidr}" is not an IP prefix`);
      config.routes.push(parsed);
    }
  }
  if (config.useCidr && config.routes.length == 0) return invalid(config, `rule "cidr" needs routes`);
  return config;
}
