/**
 * `pwts deploy PLUGIN --target T`: one plugin folder (its envoy.yaml and deploy.yaml, overridden by flags) →
 * the manifests of one shipping target, pinned by image manifest digest, each validated against its kind's
 * schema and CEL rules for the chosen platform versions, rendered as YAML.
 */
import { PwtsError } from "@proxy-wasm-ts/errors";
import { stringify } from "yaml";
import { generateEnvoyGatewayResources } from "../envoy-gateway/envoy-gateway-generator.ts";
import { validateKubernetesResource } from "../istio/kubernetes-manifests.ts";
import { readPluginDeployment, withPluginConfig } from "../istio/plugin-deployment.ts";
import { toTrafficExtensionResources } from "../istio/trafficextension-generator.ts";
import { generateIstioResources } from "../istio/wasmplugin-generator.ts";
import { dnsLabel } from "../kubernetes/dns-label.ts";
import type { TargetVersions } from "../kubernetes/target-versions.ts";
import { formatImageReference, parseImageReference } from "../oci/image-reference.ts";
import type { RegistryCredentials } from "../oci/registry-auth.ts";
import { resolveImageDigest } from "../oci/resolve-digest.ts";
import {
  type DeploymentDescription,
  readDeploymentDescription,
  type TargetRef,
  type TrafficMatch,
} from "./deployment-description.ts";

/** The platforms `pwts deploy` writes manifests for. */
export const deployTargets = ["istio-wasmplugin", "istio-trafficextension", "envoy-gateway"] as const;
export type DeployTarget = (typeof deployTargets)[number];

/** Flags of `pwts deploy`; each overrides the plugin's deploy.yaml. */
export interface DeployOptions {
  target: DeployTarget;
  /** The pushed image; a tag is resolved to its digest unless `digest` is given. */
  image?: string;
  /** Pin to this manifest digest (`sha256:…`) without asking the registry. */
  digest?: string;
  name?: string;
  namespace?: string;
  phase?: DeploymentDescription["phase"];
  priority?: number;
  failStrategy?: DeploymentDescription["failStrategy"];
  imagePullPolicy?: DeploymentDescription["imagePullPolicy"];
  imagePullSecret?: string;
  selector?: Record<string, string>;
  targetRefs?: TargetRef[];
  match?: TrafficMatch[];
  pluginConfig?: Record<string, unknown>;
  rootId?: string;
  type?: "HTTP" | "NETWORK";
  calloutClusters?: string[];
  versions?: TargetVersions;
  credentials?: RegistryCredentials;
  plainHttp?: boolean;
}

/** Generated manifests, what to look at before applying them, and validation problems. */
export interface DeployManifests {
  target: DeployTarget;
  resources: Array<Record<string, unknown>>;
  yaml: string;
  /** The pinned image the manifests point at. */
  image: string;
  warnings: string[];
  problems: Array<{ resource: string; path: string; message: string }>;
}

/** Generates and validates one target's manifests for the plugin in `dir`. */
export async function deployManifests(dir: string, options: DeployOptions): Promise<DeployManifests> {
  const described = readDeploymentDescription(dir);
  const calloutClusters = [...(described.callouts ?? []), ...(options.calloutClusters ?? [])];
  const fromEnvoyYaml = await readPluginDeployment(dir, {
    ...(options.rootId ? { rootId: options.rootId } : {}),
    ...(calloutClusters.length ? { extraCallouts: calloutClusters } : {}),
    ...(options.type ? { type: options.type } : {}),
  });
  const imageText = options.image ?? described.image;
  if (!imageText) {
    throw new PwtsError(
      "PWTS_ERR_WASMPLUGIN_OPTIONS",
      `no image for ${fromEnvoyYaml.name}: pass --image or set image: in deploy.yaml`,
    );
  }
  const image = options.digest
    ? pinTo(imageText, options.digest)
    : await resolveImageDigest(imageText, {
        ...(options.credentials ? { credentials: options.credentials } : {}),
        ...(options.plainHttp !== undefined ? { plainHttp: options.plainHttp } : {}),
      });
  const targetConfig =
    options.target === "envoy-gateway" ? described.envoyGateway?.pluginConfig : described.istio?.pluginConfig;
  const plugin = withPluginConfig(
    fromEnvoyYaml,
    options.pluginConfig ?? targetConfig ?? described.pluginConfig,
    calloutClusters,
  );
  const name = options.name ?? described.name ?? dnsLabel(plugin.name);
  const namespace = options.namespace ?? described.namespace;
  const common = {
    image,
    name,
    ...(namespace ? { namespace } : {}),
    ...pick("failStrategy", options.failStrategy ?? described.failStrategy),
    ...pick("imagePullPolicy", options.imagePullPolicy ?? described.imagePullPolicy),
    ...pick("imagePullSecret", options.imagePullSecret ?? described.imagePullSecret),
  };
  const warnings: string[] = [];
  let resources: Array<Record<string, unknown>>;
  if (options.target === "envoy-gateway") {
    const eg = described.envoyGateway ?? {};
    const generated = generateEnvoyGatewayResources(plugin, {
      ...common,
      targetRefs: options.targetRefs ?? eg.targetRefs ?? [],
    });
    resources = generated.resources;
    warnings.push(...generated.warnings);
  } else {
    const istio = described.istio ?? {};
    // Targeting given by flags replaces the description's whole (selector and targetRefs exclude each other).
    const flagTargeting = options.selector !== undefined || options.targetRefs !== undefined;
    const selector = flagTargeting ? options.selector : istio.selector;
    const targetRefs = flagTargeting ? options.targetRefs : istio.targetRefs;
    const wasmPlugin = generateIstioResources(plugin, {
      ...common,
      ...pick("phase", options.phase ?? described.phase),
      ...pick("priority", options.priority ?? described.priority),
      ...pick("selector", selector),
      ...pick("targetRefs", targetRefs),
      ...pick("match", options.match ?? istio.match),
    });
    resources =
      options.target === "istio-trafficextension" ? toTrafficExtensionResources(wasmPlugin) : wasmPlugin;
  }
  const problems: DeployManifests["problems"] = [];
  for (const resource of resources) {
    const label = `${String(resource.kind)}/${String((resource.metadata as { name?: string }).name)}`;
    for (const p of await validateKubernetesResource(resource, options.versions ?? {})) {
      if (p.severity === "warning") warnings.push(`${label}: ${p.path}: ${p.message}`);
      else problems.push({ resource: label, path: p.path, message: p.message });
    }
  }
  // A plugin's envoy.yaml is written for a laptop; its callouts often point at loopback addresses.
  for (const c of plugin.callouts) {
    if (c.host && /^(127\.|::1$|localhost$)/.test(c.host)) {
      warnings.push(
        `callout cluster "${c.name}" points at ${c.host}:${c.port}, a loopback address; point it at the real service before applying`,
      );
    }
  }
  const header = `# Generated by pwts deploy --target ${options.target} from ${plugin.source}\n`;
  const yaml = header + resources.map((r) => stringify(r, { lineWidth: 0 })).join("---\n");
  return { target: options.target, resources, yaml, image, warnings, problems };
}

/** `registry/repo:tag` + `sha256:…` → `registry/repo@sha256:…`. */
function pinTo(image: string, digest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new PwtsError("PWTS_ERR_WASMPLUGIN_OPTIONS", `--digest ${digest}: expected sha256:<64 hex>`);
  }
  const reference = parseImageReference(image.replace(/^oci:\/\//, ""));
  return formatImageReference({ registry: reference.registry, repository: reference.repository, digest });
}

/** `{ [key]: value }` when the value is set, else `{}` (optional properties stay absent, not undefined). */
function pick<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
