/**
 * Envoy Gateway resources for a plugin: an EnvoyExtensionPolicy carrying the Wasm extension (OCI image pinned by
 * manifest digest, root id, configuration, failOpen, host env keys), attached to Gateways or HTTPRoutes; and,
 * when the plugin calls out, an EnvoyPatchPolicy adding each callout cluster under the name the plugin calls.
 *
 * What Envoy Gateway cannot do, said plainly: an EnvoyExtensionPolicy has no field for clusters, and a `Backend`
 * becomes an Envoy cluster only when a route or an extension service references it, under a name Envoy
 * Gateway derives (`httproute/NS/NAME/rule/N`), which is not an API a plugin can rely on. The only way to give
 * a callout the cluster name it uses is an EnvoyPatchPolicy (JSON patch `add` of an
 * `envoy.config.cluster.v3.Cluster`), which Envoy Gateway runs only when `extensionApis.enableEnvoyPatchPolicy`
 * is on in its configuration, and which attaches to a Gateway. Network (L4) Wasm filters have no
 * EnvoyExtensionPolicy field at all: Envoy Gateway's Wasm extensions are HTTP filters.
 */
import { PwtsError } from "@proxy-wasm-ts/errors";
import type { TargetRef } from "../deploy/deployment-description.ts";
import type { PluginDeployment } from "../istio/plugin-deployment.ts";

type Json = Record<string, unknown>;

/** The plugin cannot run on this target at all (not a matter of options). */
export class UnsupportedTargetError extends PwtsError {
  constructor(message: string) {
    super("PWTS_ERR_PLUGIN_DEPLOYMENT", message);
  }
}

/** How and where to deploy on Envoy Gateway. */
export interface EnvoyGatewayOptions {
  /** `registry/repo@sha256:…` (a digest is required). */
  image: string;
  name: string;
  namespace?: string;
  targetRefs: TargetRef[];
  failStrategy?: "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
  pluginConfig?: Json;
  imagePullPolicy?: "IfNotPresent" | "Always";
  imagePullSecret?: string;
}

const gatewayGroup = "gateway.networking.k8s.io";

/** The resources, EnvoyExtensionPolicy first, and what did not carry over (as warnings). */
export function generateEnvoyGatewayResources(
  plugin: PluginDeployment,
  options: EnvoyGatewayOptions,
): { resources: Json[]; warnings: string[] } {
  if (plugin.type === "NETWORK") {
    throw new UnsupportedTargetError(
      `${plugin.name} is a network (L4) Wasm filter; Envoy Gateway's EnvoyExtensionPolicy runs HTTP Wasm filters only`,
    );
  }
  const image = options.image.replace(/^oci:\/\//, "");
  const digestHex = /@sha256:([a-f0-9]{64})$/.exec(image)?.[1];
  if (!digestHex) {
    throw new PwtsError(
      "PWTS_ERR_WASMPLUGIN_OPTIONS",
      `image "${options.image}" is not pinned by digest (expected …@sha256:<64 hex>)`,
    );
  }
  if (options.targetRefs.length === 0) {
    throw new PwtsError(
      "PWTS_ERR_WASMPLUGIN_OPTIONS",
      "Envoy Gateway needs targetRefs (a Gateway or HTTPRoute): set envoyGateway.targetRefs in deploy.yaml or pass --target-ref KIND/NAME",
    );
  }
  const warnings: string[] = [];
  const metadata = { name: options.name, ...(options.namespace ? { namespace: options.namespace } : {}) };
  const failStrategy = options.failStrategy ?? plugin.failStrategy;
  if (failStrategy === "FAIL_RELOAD") {
    warnings.push("Envoy Gateway has failOpen only: FAIL_RELOAD becomes failOpen: false (fail closed)");
  }
  const inlineEnv = plugin.env.filter((e) => e.valueFrom !== "HOST");
  if (inlineEnv.length) {
    warnings.push(
      `Envoy Gateway passes host environment keys only; ${inlineEnv.map((e) => e.name).join(", ")} (inline values) are left out`,
    );
  }
  const hostKeys = plugin.env.filter((e) => e.valueFrom === "HOST").map((e) => e.name);
  const pluginConfig = options.pluginConfig ?? plugin.pluginConfig;
  const wasm: Json = {
    name: options.name,
    ...(plugin.rootId ? { rootID: plugin.rootId } : {}),
    code: {
      type: "Image",
      image: {
        url: image,
        // "It must match the digest of the OCI image" (wasm_types.go ImageWasmCodeSource.SHA256).
        sha256: digestHex,
        ...(options.imagePullSecret
          ? { pullSecretRef: { kind: "Secret", name: options.imagePullSecret } }
          : {}),
      },
      ...(options.imagePullPolicy ? { pullPolicy: options.imagePullPolicy } : {}),
    },
    ...(pluginConfig ? { config: pluginConfig } : {}),
    failOpen: failStrategy === "FAIL_OPEN",
    ...(hostKeys.length ? { env: { hostKeys } } : {}),
  };
  const resources: Json[] = [
    {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "EnvoyExtensionPolicy",
      metadata,
      spec: {
        targetRefs: options.targetRefs.map((t) => ({
          group: t.group ?? gatewayGroup,
          kind: t.kind,
          name: t.name,
        })),
        wasm: [wasm],
      },
    },
  ];
  if (plugin.callouts.length) {
    const gateway = options.targetRefs.find((t) => t.kind === "Gateway");
    if (!gateway) {
      throw new PwtsError(
        "PWTS_ERR_WASMPLUGIN_OPTIONS",
        `${plugin.name} calls out to ${plugin.callouts.map((c) => c.name).join(", ")}; the EnvoyPatchPolicy that adds those clusters attaches to a Gateway, so targetRefs must name one`,
      );
    }
    resources.push({
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "EnvoyPatchPolicy",
      metadata: { ...metadata, name: `${options.name}-callouts` },
      spec: {
        targetRef: { group: gatewayGroup, kind: "Gateway", name: gateway.name },
        type: "JSONPatch",
        jsonPatches: plugin.callouts.map((c) => ({
          type: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
          name: c.name,
          operation: { op: "add", path: "", value: c.definition },
        })),
      },
    });
    warnings.push(
      "callout clusters are added by an EnvoyPatchPolicy, which Envoy Gateway applies only with extensionApis.enableEnvoyPatchPolicy: true",
    );
  }
  return { resources, warnings };
}
