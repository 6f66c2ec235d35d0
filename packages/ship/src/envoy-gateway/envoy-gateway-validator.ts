/**
 * Offline validation of Envoy Gateway's `gateway.envoyproxy.io/v1alpha1` EnvoyExtensionPolicy and
 * EnvoyPatchPolicy: the structural schema compiled into `@kubernetes-models/envoy-gateway` (generated from
 * Envoy Gateway's Go API types, `github.com/envoyproxy/gateway/api/v1alpha1`), then the CRD's CEL rules from
 * the `+kubebuilder:validation:XValidation` markers of those types, evaluated with `@bufbuild/cel`; a patch
 * that adds a cluster also has the cluster checked against Envoy's own `Cluster` message.
 */
import {
  EnvoyExtensionPolicy,
  EnvoyPatchPolicy,
} from "@kubernetes-models/envoy-gateway/gateway.envoyproxy.io/v1alpha1";
import { checkAddedClusters } from "../envoy/added-clusters.ts";
import { type CelRule, checkCelRules } from "../kubernetes/cel-rules.ts";
import { type FieldTree, nullFields, unknownFields } from "../kubernetes/field-tree.ts";
import { checkModelSchema } from "../kubernetes/model-schema-check.ts";
import type { ResourceProblem } from "../kubernetes/resource-problem.ts";
import { atLeast, defaultTargetVersions, type TargetVersions } from "../kubernetes/target-versions.ts";

const routeKinds = "['Gateway', 'HTTPRoute', 'GRPCRoute', 'UDPRoute', 'TCPRoute', 'TLSRoute']";

/**
 * Verbatim from envoyproxy/gateway `api/v1alpha1/envoyextensionpolicy_types.go` (EnvoyExtensionPolicySpec,
 * the version with targetSelectors and without mergeType, as in `@kubernetes-models/envoy-gateway` 2.0.0) and
 * `api/v1alpha1/wasm_types.go` (WasmCodeSource, ImageWasmCodeSource.pullSecretRef).
 */
const extensionPolicyCelRules: CelRule[] = [
  {
    path: "spec",
    rule: "(has(self.targetRef) && !has(self.targetRefs)) || (!has(self.targetRef) && has(self.targetRefs)) || (has(self.targetSelectors) && self.targetSelectors.size() > 0) ",
    message: "either targetRef or targetRefs must be used",
  },
  {
    path: "spec",
    rule: "has(self.targetRef) ? self.targetRef.group == 'gateway.networking.k8s.io' : true",
    message: "this policy can only have a targetRef.group of gateway.networking.k8s.io",
  },
  {
    path: "spec",
    rule: `has(self.targetRef) ? self.targetRef.kind in ${routeKinds} : true`,
    message:
      "this policy can only have a targetRef.kind of Gateway/HTTPRoute/GRPCRoute/TCPRoute/UDPRoute/TLSRoute",
  },
  {
    path: "spec",
    rule: "has(self.targetRef) ? !(has(self.targetRef.sectionName) && self.targetRef.kind == 'Gateway') : true",
    message: "this policy does not yet support the sectionName field for Gateway",
  },
  {
    path: "spec",
    rule: "has(self.targetRefs) ? self.targetRefs.all(ref, ref.group == 'gateway.networking.k8s.io') : true ",
    message: "this policy can only have a targetRefs[*].group of gateway.networking.k8s.io",
  },
  {
    path: "spec",
    rule: `has(self.targetRefs) ? self.targetRefs.all(ref, ref.kind in ${routeKinds}) : true `,
    message:
      "this policy can only have a targetRefs[*].kind of Gateway/HTTPRoute/GRPCRoute/TCPRoute/UDPRoute/TLSRoute",
  },
  {
    path: "spec",
    rule: "has(self.targetRefs) ? self.targetRefs.all(ref, !(has(ref.sectionName) && ref.kind == 'Gateway')) : true",
    message: "this policy does not yet support the sectionName field for Gateway",
  },
  {
    path: "spec.wasm[].code",
    rule: "self.type == 'HTTP' ? has(self.http) : !has(self.http)",
    message: "If type is HTTP, http field needs to be set.",
  },
  {
    path: "spec.wasm[].code",
    rule: "self.type == 'Image' ? has(self.image) : !has(self.image)",
    message: "If type is Image, image field needs to be set.",
  },
  {
    path: "spec.wasm[].code.image.pullSecretRef",
    rule: "self.kind == 'Secret'",
    message: "only support Secret kind.",
  },
];

const codeSourceFields: FieldTree = { url: "leaf", sha256: "leaf", tls: "any", pullSecretRef: "any" };

/**
 * The fields of an EnvoyExtensionPolicy (`@kubernetes-models/envoy-gateway` 2.0.0's types); the Wasm entries,
 * which pwts writes, in full, the other extension kinds free-form.
 */
const extensionPolicyFields: FieldTree = {
  apiVersion: "leaf",
  kind: "leaf",
  metadata: "any",
  status: "any",
  spec: {
    targetRef: "any",
    targetRefs: "any",
    targetSelectors: "any",
    extProc: "any",
    lua: "any",
    wasm: {
      name: "leaf",
      rootID: "leaf",
      code: { type: "leaf", http: codeSourceFields, image: codeSourceFields, pullPolicy: "leaf" },
      config: "any",
      failOpen: "leaf",
      env: { hostKeys: "leaf" },
    },
  },
};

const clusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

/** Validates an EnvoyExtensionPolicy for an Envoy Gateway version; returns every problem found. */
export function validateEnvoyExtensionPolicy(
  resource: Record<string, unknown>,
  versions: TargetVersions = {},
): ResourceProblem[] {
  const out = checkModelSchema(EnvoyExtensionPolicy, resource);
  unknownFields(resource, extensionPolicyFields, "", out);
  nullFields(resource.spec, "spec", out, new Set(["spec.wasm[].config"]));
  out.push(...checkCelRules(resource, extensionPolicyCelRules));
  const eg = versions.envoyGateway ?? defaultTargetVersions.envoyGateway;
  if ((resource.spec as { targetRef?: unknown } | undefined)?.targetRef !== undefined) {
    // PolicyTargetReferences.targetRef: "Deprecated: use targetRefs/targetSelectors instead".
    out.push({
      path: "spec.targetRef",
      message: "deprecated: use targetRefs or targetSelectors",
      severity: "warning",
    });
  }
  // EnvoyExtensionPolicy (and its Wasm extensions) arrived in Envoy Gateway v1.1.
  if (!atLeast(eg, 1, 1)) {
    out.push({
      path: "(root)",
      message: `EnvoyExtensionPolicy needs Envoy Gateway 1.1 or later (checking for ${eg})`,
    });
  }
  return out;
}

/** Validates an EnvoyPatchPolicy; clusters it adds are checked as Envoy `Cluster` messages. */
export async function validateEnvoyPatchPolicy(
  resource: Record<string, unknown>,
): Promise<ResourceProblem[]> {
  const out = checkModelSchema(EnvoyPatchPolicy, resource);
  const patches = ((resource.spec as { jsonPatches?: unknown } | undefined)?.jsonPatches ?? []) as Array<{
    type?: string;
    operation?: { op?: string; path?: string; value?: unknown };
  }>;
  if (!Array.isArray(patches)) return out;
  out.push(
    ...(await checkAddedClusters(
      patches.flatMap((patch, i) =>
        patch?.type === clusterType && patch.operation?.op === "add" && !patch.operation.path
          ? [{ value: patch.operation.value, path: `spec.jsonPatches[${i}].operation.value` }]
          : [],
      ),
    )),
  );
  return out;
}
