/**
 * Generates the Istio resources that deploy a plugin: the WasmPlugin (pinned by manifest digest, because for
 * `oci://` URLs Istio compares `sha256` with the image manifest digest, not the module's hash), and for
 * every callout cluster a ServiceEntry plus an EnvoyFilter adding the cluster under the name the plugin
 * calls. A WasmPlugin cannot create clusters, and Istio names its own `outbound|PORT||HOST`.
 */

import { isIP } from "node:net";
import { PwtsError } from "@proxy-wasm-ts/errors";
import { dnsLabel } from "../kubernetes/dns-label.ts";
import type { CalloutCluster, PluginDeployment } from "./plugin-deployment.ts";

type Json = Record<string, unknown>;

/** How and where to deploy; everything but the image is optional. */
export interface WasmPluginOptions {
  /** `oci://registry/repo@sha256:…` or `registry/repo@sha256:…` (a digest is required). */
  image: string;
  /** metadata.name; defaults to the plugin name. */
  name?: string;
  namespace?: string;
  phase?: "UNSPECIFIED_PHASE" | "AUTHN" | "AUTHZ" | "STATS";
  priority?: number;
  failStrategy?: "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
  imagePullPolicy?: "IfNotPresent" | "Always";
  imagePullSecret?: string;
  /** Workload labels (`selector.matchLabels`). */
  selector?: Record<string, string>;
  /** Gateway API style targets, e.g. `{kind: "Gateway", name: "ingress"}`. Exclusive with selector. */
  targetRefs?: Array<{ kind: string; name: string; group?: string; namespace?: string }>;
  /** Traffic match: mode and ports. */
  match?: Array<{ mode?: "CLIENT" | "SERVER" | "CLIENT_AND_SERVER"; ports?: number[] }>;
  /** Overrides the configuration read from envoy.yaml. */
  pluginConfig?: Json;
}

const gatewayGroups: Record<string, string> = {
  Gateway: "gateway.networking.k8s.io",
  GatewayClass: "gateway.networking.k8s.io",
  Service: "",
  ServiceEntry: "networking.istio.io",
};

/** Builds the resources, WasmPlugin first. Throws when the image is not pinned by digest. */
export function generateIstioResources(plugin: PluginDeployment, options: WasmPluginOptions): Json[] {
  const image = options.image.replace(/^oci:\/\//, "");
  const digestMatch = /@sha256:([a-f0-9]{64})$/.exec(image);
  if (!digestMatch?.[1]) {
    throw new PwtsError(
      "PWTS_ERR_WASMPLUGIN_OPTIONS",
      `image "${options.image}" is not pinned by digest (expected …@sha256:<64 hex>)`,
    );
  }
  if (options.selector && options.targetRefs?.length) {
    throw new PwtsError(
      "PWTS_ERR_WASMPLUGIN_OPTIONS",
      "choose either a workload selector or targetRefs, not both (Istio rejects both)",
    );
  }
  const name = options.name ?? dnsLabel(plugin.name);
  const metadata = { name, ...(options.namespace ? { namespace: options.namespace } : {}) };
  const pluginConfig = options.pluginConfig ?? plugin.pluginConfig;
  const failStrategy = options.failStrategy ?? plugin.failStrategy;
  const spec: Json = {
    url: `oci://${image}`,
    sha256: digestMatch[1],
    ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
    ...(options.imagePullSecret ? { imagePullSecret: options.imagePullSecret } : {}),
    ...(plugin.rootId ? { pluginName: plugin.rootId } : {}),
    ...(pluginConfig ? { pluginConfig } : {}),
    ...(options.phase ? { phase: options.phase } : {}),
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
    ...(failStrategy ? { failStrategy } : {}),
    ...(plugin.type === "NETWORK" ? { type: "NETWORK" } : {}),
    ...(options.match?.length
      ? {
          match: options.match.map((m) => ({
            ...(m.mode ? { mode: m.mode } : {}),
            ...(m.ports?.length ? { ports: m.ports.map((number) => ({ number })) } : {}),
          })),
        }
      : {}),
    ...(options.selector ? { selector: { matchLabels: options.selector } } : {}),
    ...(options.targetRefs?.length
      ? {
          targetRefs: options.targetRefs.map((t) => ({
            group: t.group ?? gatewayGroups[t.kind] ?? "",
            kind: t.kind,
            name: t.name,
            ...(t.namespace ? { namespace: t.namespace } : {}),
          })),
        }
      : {}),
    ...(plugin.env.length ? { vmConfig: { env: plugin.env } } : {}),
  };
  const resources: Json[] = [
    { apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata, spec },
  ];
  if (plugin.callouts.length) {
    for (const c of plugin.callouts) resources.push(serviceEntry(c, name, options.namespace));
    resources.push(calloutEnvoyFilter(plugin.callouts, name, options));
  }
  return resources;
}

function serviceEntry(cluster: CalloutCluster, pluginName: string, namespace: string | undefined): Json {
  if (!cluster.host || !cluster.port) {
    throw new PwtsError(
      "PWTS_ERR_PLUGIN_DEPLOYMENT",
      `callout cluster "${cluster.name}" has no socket address endpoint to build a ServiceEntry from`,
    );
  }
  const ip = isIP(cluster.host) !== 0;
  // A ServiceEntry host must be a name; an IP endpoint gets a synthetic one and STATIC resolution.
  const host = ip ? `${cluster.name}.${pluginName}.callout` : cluster.host;
  const internal = /\.svc(\.cluster\.local)?$/.test(host);
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "ServiceEntry",
    metadata: { name: dnsLabel(`${pluginName}-${cluster.name}`), ...(namespace ? { namespace } : {}) },
    spec: {
      hosts: [host],
      location: internal ? "MESH_INTERNAL" : "MESH_EXTERNAL",
      ports: [
        {
          number: cluster.port,
          name: `${cluster.tls ? "tls" : "http"}-${cluster.port}`,
          protocol: cluster.tls ? "TLS" : "HTTP",
        },
      ],
      resolution: ip ? "STATIC" : "DNS",
      ...(ip ? { endpoints: [{ address: cluster.host }] } : {}),
    },
  };
}

function calloutEnvoyFilter(
  callouts: CalloutCluster[],
  pluginName: string,
  options: WasmPluginOptions,
): Json {
  // Gateways run the plugin in the GATEWAY context; sidecars call out from SIDECAR_OUTBOUND.
  const context = options.targetRefs?.some((t) => t.kind === "Gateway" || t.kind === "GatewayClass")
    ? "GATEWAY"
    : options.selector
      ? "SIDECAR_OUTBOUND"
      : "ANY";
  return {
    apiVersion: "networking.istio.io/v1alpha3",
    kind: "EnvoyFilter",
    metadata: {
      name: dnsLabel(`${pluginName}-callouts`),
      ...(options.namespace ? { namespace: options.namespace } : {}),
    },
    spec: {
      ...(options.selector ? { workloadSelector: { labels: options.selector } } : {}),
      configPatches: callouts.map((c) => ({
        applyTo: "CLUSTER",
        match: { context },
        patch: { operation: "ADD", value: c.definition },
      })),
    },
  };
}
