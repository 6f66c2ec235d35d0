/**
 * `pwts istio PLUGIN`: the `istio-wasmplugin` target of `pwts deploy` (a WasmPlugin pinned by digest, and the
 * ServiceEntry/EnvoyFilter pair for each callout cluster), kept as its own entry point.
 */
import { type DeployManifests, type DeployOptions, deployManifests } from "../deploy/deploy-manifests.ts";
import type { RegistryCredentials } from "../oci/registry-auth.ts";
import type { WasmPluginOptions } from "./wasmplugin-generator.ts";

export interface IstioManifestOptions extends WasmPluginOptions {
  rootId?: string;
  /** Filter type, overriding what envoy.yaml says (HTTP when there is no envoy.yaml). */
  type?: "HTTP" | "NETWORK";
  /** Cluster names to treat as callouts besides those named in the plugin configuration. */
  calloutClusters?: string[];
  credentials?: RegistryCredentials;
  plainHttp?: boolean;
  versions?: DeployOptions["versions"];
}

export type IstioManifests = Omit<DeployManifests, "target">;

/** Generates and validates the Istio WasmPlugin resources for the plugin in `dir`. */
export async function istioManifests(dir: string, options: IstioManifestOptions): Promise<IstioManifests> {
  const { target: _target, ...result } = await deployManifests(dir, {
    ...options,
    target: "istio-wasmplugin",
  });
  return result;
}
