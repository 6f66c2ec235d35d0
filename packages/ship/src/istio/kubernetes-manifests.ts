/**
 * Kubernetes manifests `pwts validate` understands: WasmPlugin and TrafficExtension (CRD schema + CEL rules),
 * Envoy Gateway's EnvoyExtensionPolicy and EnvoyPatchPolicy, ServiceEntry and EnvoyFilter (Istio's CRD
 * structural schemas from `@kubernetes-models/istio`; an EnvoyFilter or EnvoyPatchPolicy that adds a cluster
 * also has that cluster checked against Envoy's own `Cluster` message). Other kinds are reported as not
 * checked. Problems depend on the Istio / Envoy Gateway versions checked for.
 */

import { ServiceEntry as ServiceEntryV1 } from "@kubernetes-models/istio/networking.istio.io/v1";
import {
  EnvoyFilter,
  ServiceEntry as ServiceEntryV1alpha3,
} from "@kubernetes-models/istio/networking.istio.io/v1alpha3";
import { ServiceEntry as ServiceEntryV1beta1 } from "@kubernetes-models/istio/networking.istio.io/v1beta1";
import { parseAllDocuments } from "yaml";
import type { ConfigProblem } from "../config-problem.ts";
import { checkAddedClusters } from "../envoy/added-clusters.ts";
import {
  validateEnvoyExtensionPolicy,
  validateEnvoyPatchPolicy,
} from "../envoy-gateway/envoy-gateway-validator.ts";
import { pointerToFieldPath } from "../json-pointer.ts";
import type { TargetVersions } from "../kubernetes/target-versions.ts";
import { validateTrafficExtension } from "./trafficextension-validator.ts";
import { type ResourceProblem, validateWasmPlugin } from "./wasmplugin-validator.ts";

/** Kinds with their own validator (schema, CEL rules, version checks). */
const fullValidators: Record<
  string,
  (
    resource: Record<string, unknown>,
    versions: TargetVersions,
  ) => ResourceProblem[] | Promise<ResourceProblem[]>
> = {
  "extensions.istio.io/v1alpha1/WasmPlugin": validateWasmPlugin,
  "extensions.istio.io/v1alpha1/TrafficExtension": validateTrafficExtension,
  "gateway.envoyproxy.io/v1alpha1/EnvoyExtensionPolicy": validateEnvoyExtensionPolicy,
  "gateway.envoyproxy.io/v1alpha1/EnvoyPatchPolicy": validateEnvoyPatchPolicy,
};

interface Validatable {
  validate(): void;
}

const structuralModels: Record<string, new (data: never) => Validatable> = {
  "networking.istio.io/v1alpha3/EnvoyFilter": EnvoyFilter,
  "networking.istio.io/v1/ServiceEntry": ServiceEntryV1,
  "networking.istio.io/v1beta1/ServiceEntry": ServiceEntryV1beta1,
  "networking.istio.io/v1alpha3/ServiceEntry": ServiceEntryV1alpha3,
};

/** Validates one Kubernetes resource object; used for files and for generated manifests alike. */
export async function validateKubernetesResource(
  resource: Record<string, unknown>,
  versions: TargetVersions = {},
): Promise<ResourceProblem[]> {
  const key = `${String(resource.apiVersion)}/${String(resource.kind)}`;
  const validator = fullValidators[key];
  if (validator) return validator(resource, versions);
  const Model = structuralModels[key];
  if (!Model) return [];
  const out: ResourceProblem[] = [];
  try {
    new Model(resource as never).validate();
  } catch (err) {
    const errors = (err as { errors?: Array<{ instancePath: string; message?: string }> }).errors;
    if (!errors) throw err;
    for (const e of errors)
      out.push({ path: pointerToFieldPath(e.instancePath), message: e.message ?? "invalid" });
  }
  if (resource.kind === "EnvoyFilter") out.push(...(await checkEnvoyFilterClusters(resource)));
  return out;
}

/** Is this a kind `validateKubernetesResource` checks? */
export function isCheckedKind(resource: Record<string, unknown>): boolean {
  const key = `${String(resource.apiVersion)}/${String(resource.kind)}`;
  return key in fullValidators || key in structuralModels;
}

async function checkEnvoyFilterClusters(resource: Record<string, unknown>): Promise<ResourceProblem[]> {
  const spec = (resource.spec ?? {}) as {
    configPatches?: Array<{ applyTo?: string; patch?: { operation?: string; value?: unknown } }>;
  };
  return checkAddedClusters(
    (spec.configPatches ?? []).flatMap((patch, i) =>
      patch.applyTo === "CLUSTER" && patch.patch?.operation === "ADD"
        ? [{ value: patch.patch.value, path: `spec.configPatches[${i}].patch.value` }]
        : [],
    ),
  );
}

/** Validates every document of a manifest file. */
export async function validateKubernetesManifests(
  file: string,
  text: string,
  versions: TargetVersions = {},
): Promise<ConfigProblem[]> {
  const out: ConfigProblem[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  for (const [index, doc] of docs.entries()) {
    const where = docs.length > 1 ? `[document ${index + 1}] ` : "";
    if (doc.errors.length) {
      for (const e of doc.errors)
        out.push({
          file,
          path: `${where}(root)`,
          message: `not valid YAML: ${e.message}`,
          severity: "error",
        });
      continue;
    }
    const value = doc.toJS() as unknown;
    if (!value || typeof value !== "object") continue;
    const resource = value as Record<string, unknown>;
    if (!isCheckedKind(resource)) {
      out.push({
        file,
        path: `${where}(root)`,
        message: `${String(resource.apiVersion)} ${String(resource.kind)} is not checked`,
        severity: "warning",
      });
      continue;
    }
    const name = (resource.metadata as { name?: unknown } | undefined)?.name;
    const label = `${where}${String(resource.kind)}/${String(name ?? "?")} `;
    for (const p of await validateKubernetesResource(resource, versions)) {
      out.push({ file, path: `${label}${p.path}`, message: p.message, severity: p.severity ?? "error" });
    }
  }
  return out;
}
