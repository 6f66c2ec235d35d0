/**
 * What the `npm start` demo runs and where: the services every seed scenario needs and the plugins, each on
 * the loopback addresses that `plugins/README.md` assigns (Linux routes all of 127.0.0.0/8 to loopback, so a
 * client can really come from 127.0.0.10).
 */

/** An echo (httpbin-like) instance standing in for an upstream of the seeds. */
export interface EchoInstance {
  name: string;
  host: string;
  port: number;
  /** Which scenario uses it, for the "what runs where" table. */
  role: string;
}

export const ECHO_INSTANCES: readonly EchoInstance[] = [
  { name: "egress-router1", host: "127.0.0.21", port: 8080, role: "tcp-routing, even source octet" },
  { name: "egress-router2", host: "127.0.0.22", port: 8080, role: "tcp-routing, odd source octet" },
  { name: "us_east1", host: "127.0.0.31", port: 8080, role: "regional-routing cluster" },
  { name: "us_central1", host: "127.0.0.32", port: 8080, role: "regional-routing cluster" },
  { name: "api-backend", host: "127.0.0.41", port: 8080, role: "api-observer upstream" },
  { name: "httpbin", host: "127.0.0.50", port: 8080, role: "training plugins upstream" },
  { name: "metadata", host: "127.0.0.51", port: 8080, role: "callout-enrichment metadata service" },
];

export const DISCOVERY = { host: "127.0.0.33", port: 8080 } as const;
export const INGESTION = { host: "127.0.0.42", port: 8080 } as const;

/** The plugins, in the order the demo starts and lists them; each runs its own `plugins/<name>/envoy.yaml`. */
export const DEMO_PLUGINS = [
  "tcp-routing",
  "regional-routing",
  "api-observer",
  "header-mutation",
  "body-redaction",
  "egress-blocklist",
  "callout-enrichment",
  "http-timing",
] as const;

export type DemoPlugin = (typeof DEMO_PLUGINS)[number];
