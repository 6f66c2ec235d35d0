// The plugin configuration and the routing decision it describes.
//
//   {"rule": "parity", "even_cluster": "egress-router1", "odd_cluster": "egress-router2"}
//   {"rule": "cidr", "routes": [{"cidr": "10.0.0.0/8", "cluster": "outbound|8080||a.ns.svc.cluster.local"}]}
//
// Parity looks at the last byte of the source address. CIDR routes are tried in order; no match means no
// override.

import ipaddr from "ipaddr.js";
import { type IpAddress, lastByte } from "./source-address.ts";

interface CidrRoute {
  range: [IpAddress, number];
  cluster: string;
}

export class RoutingConfig {
  rule: "parity" | "cidr" = "parity";
  evenCluster = "egress-router1";
  oddCluster = "egress-router2";
  routes: CidrRoute[] = [];

  /** The cluster for this source, or null for "keep the listener's default cluster". */
  clusterFor(address: IpAddress): string | null {
    if (this.rule === "parity") return lastByte(address) % 2 === 0 ? this.evenCluster : this.oddCluster;
    const route = this.routes.find(({ range }) => address.kind() === range[0].kind() && address.match(range));
    return route?.cluster ?? null;
  }
}

const KNOWN_FIELDS = ["rule", "even_cluster", "odd_cluster", "routes"];

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects.
const CLUSTER_NAME = /^[^\x00-\x1f]{1,256}$/;

/** A cluster name: non-empty, no control characters (Istio's `outbound|8080||host` is fine). */
const isClusterName = (value: unknown): value is string =>
  typeof value === "string" && CLUSTER_NAME.test(value);

function parseCidr(text: string): [IpAddress, number] | null {
  const [address = "", bits] = text.split("/");
  const isV4 = !address.includes(":");
  if (isV4 ? !ipaddr.IPv4.isValidFourPartDecimal(address) : !ipaddr.IPv6.isValid(address)) return null;
  const max = isV4 ? 32 : 128;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max)) return null;
  return [ipaddr.parse(address), bits === undefined ? max : Number(bits)];
}

/** Reads the configuration (empty: parity with the default cluster names); throws with the reason. */
export function parseRoutingConfig(text: string): RoutingConfig {
  const config = new RoutingConfig();
  if (text === "") return config;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("configuration is not a JSON object");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("configuration is not a JSON object");
  }
  const raw = json as Record<string, unknown>;
  const unknown = Object.keys(raw).find((key) => !KNOWN_FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new Error(`unknown field "${unknown}" (expected rule, even_cluster, odd_cluster, routes)`);
  }
  if (raw.rule !== undefined) {
    if (raw.rule !== "parity" && raw.rule !== "cidr") throw new Error('rule must be "parity" or "cidr"');
    config.rule = raw.rule;
  }
  if (raw.even_cluster !== undefined) {
    if (!isClusterName(raw.even_cluster)) throw new Error("even_cluster must be a non-empty cluster name");
    config.evenCluster = raw.even_cluster;
  }
  if (raw.odd_cluster !== undefined) {
    if (!isClusterName(raw.odd_cluster)) throw new Error("odd_cluster must be a non-empty cluster name");
    config.oddCluster = raw.odd_cluster;
  }
  if (raw.routes !== undefined) {
    if (!Array.isArray(raw.routes)) throw new Error("routes must be an array");
    config.routes = raw.routes.map((route: { cidr?: unknown; cluster?: unknown }, i) => {
      if (typeof route?.cidr !== "string" || !isClusterName(route.cluster)) {
        throw new Error(`routes[${i}] needs "cidr" and "cluster" strings`);
      }
      const range = parseCidr(route.cidr);
      if (range === null) throw new Error(`routes[${i}].cidr "${route.cidr}" is not an IP prefix`);
      return { range, cluster: route.cluster };
    });
  }
  if (config.rule === "cidr" && config.routes.length === 0) throw new Error('rule "cidr" needs routes');
  return config;
}
