/**
 * The copy-paste commands `npm start` prints once everything is up: one per seed scenario. The README's
 * walkthrough shows the same commands with the output to expect, and `test/start.test.ts` runs the README's.
 */
import { DISCOVERY, INGESTION } from "./topology.ts";

export interface WalkthroughStep {
  title: string;
  command: string;
}

/** The steps, with every port moved by `portOffset`. */
export function walkthroughSteps(portOffset: number): WalkthroughStep[] {
  const p = (port: number) => port + portOffset;
  return [
    {
      title: "TCP routing: a client from 127.0.0.10 (even) goes through egress-router1",
      command: `curl -s --interface 127.0.0.10 http://127.0.0.1:${p(10000)}/ip`,
    },
    {
      title: "TCP routing: a client from 127.0.0.11 (odd) goes through egress-router2",
      command: `curl -s --interface 127.0.0.11 http://127.0.0.1:${p(10000)}/ip`,
    },
    {
      title: "Regional routing: the discovery service puts api.example.com in us_central1",
      command: `curl -si http://127.0.0.1:${p(10001)}/get -H 'Host: api.example.com'`,
    },
    {
      title: "Regional routing: and httpbin.org in us_east1",
      command: `curl -s http://127.0.0.1:${p(10001)}/get -H 'Host: httpbin.org'`,
    },
    {
      title: "Egress blocklist: a blocked host gets 451",
      command: `curl -si http://127.0.0.1:${p(10005)}/get -H 'Host: shop.example.com'`,
    },
    {
      title: "Body redaction: secrets in a response body are redacted",
      command: `curl -s http://127.0.0.1:${p(10004)}/anything -d 'SECRET=topsecret&user=ada'`,
    },
    {
      title: "Header mutation: x-training on the request and on the response",
      command: `curl -si http://127.0.0.1:${p(10003)}/headers`,
    },
    {
      title: "Callout enrichment: x-meta added from the metadata service",
      command: `curl -s http://127.0.0.1:${p(10006)}/headers`,
    },
    {
      title: "HTTP timing: request-duration histograms and response-class counters",
      command: `curl -s http://127.0.0.1:${p(10007)}/status/503 >/dev/null; curl -s http://127.0.0.1:${p(9908)}/stats/prometheus | grep wasm_http`,
    },
    {
      title: "API observer: a call with a secret, then the event the ingestion service stored",
      command: `curl -s http://127.0.0.1:${p(10002)}/anything/users/42 -H 'authorization: Bearer s3cr3t' -d '{"password":"hunter2"}' >/dev/null; sleep 3; curl -s 'http://${INGESTION.host}:${p(INGESTION.port)}/api/v1/events/recent?limit=1'`,
    },
  ];
}

/** Where the discovery service and the dashboard are, for the closing lines. */
export function serviceUrls(portOffset: number): { dashboard: string; discovery: string } {
  return {
    dashboard: `http://${INGESTION.host}:${INGESTION.port + portOffset}/`,
    discovery: `http://${DISCOVERY.host}:${DISCOVERY.port + portOffset}/`,
  };
}
