/**
 * What WasmPlugin and TrafficExtension share: the `extensions.istio.io` message types of `wasm.proto`
 * (PluginPhase, FailStrategy, PullPolicy, VmConfig, PluginType, TrafficSelector), which
 * `traffic_extension.proto` imports, so the WasmPlugin CRD's compiled schema in `@kubernetes-models/istio`
 * (Istio 1.29.2 `crd-all.gen.yaml`) checks both; and the CEL rules on those types.
 */
import { WasmPlugin } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1";
import type { CelRule } from "../kubernetes/cel-rules.ts";
import type { FieldTree } from "../kubernetes/field-tree.ts";

export { WasmPlugin as WasmPluginModel };

export const targetRefFields: FieldTree = { group: "leaf", kind: "leaf", name: "leaf", namespace: "leaf" };

/** Fields of the module itself: WasmPlugin.spec has them flat, TrafficExtension.spec.wasm holds them. */
export const wasmModuleFields: FieldTree = {
  url: "leaf",
  sha256: "leaf",
  imagePullPolicy: "leaf",
  imagePullSecret: "leaf",
  verificationKey: "leaf",
  pluginConfig: "any",
  pluginName: "leaf",
  failStrategy: "leaf",
  vmConfig: { env: { name: "leaf", value: "leaf", valueFrom: "leaf" } },
  type: "leaf",
};

/** Targeting and ordering fields both kinds have at the top of `spec`. */
export const placementFields: FieldTree = {
  selector: { matchLabels: "any" },
  targetRefs: targetRefFields,
  phase: "leaf",
  priority: "leaf",
  match: { mode: "leaf", ports: { number: "leaf" } },
};

/**
 * CEL rules on the module fields, as paths under `prefix` ("spec" for WasmPlugin, "spec.wasm" for
 * TrafficExtension). From istio/api `extensions/v1alpha1/wasm.proto` (`+kubebuilder:validation:XValidation`
 * on `url` and `EnvVar`, the list-map keys of `vmConfig.env`), written here in plain CEL because the
 * upstream URL rule calls the Kubernetes URL library (`isURL`, `url().getScheme()`), which `@bufbuild/cel`
 * does not have; plus the sha256/URL digest agreement Istio enforces at fetch time (`pkg/wasm/cache.go`).
 */
export function moduleCelRules(prefix: string): CelRule[] {
  return [
    {
      path: `${prefix}.url`,
      rule: `!self.contains("://") || self.matches("^(oci|https?)://[^\\\\s/]+") || self.matches("^file://.+")`,
      message:
        "url must have schema one of [http, https, file, oci] followed by a host or path (no scheme means oci)",
    },
    {
      path: `${prefix}.url`,
      rule: `self.contains("://") || self.matches("^[A-Za-z0-9][A-Za-z0-9._/:-]*(@sha256:[a-f0-9]{64})?$")`,
      message:
        "url must have schema one of [http, https, file, oci]; without one it must be an image reference",
    },
    { path: `${prefix}.url`, rule: `!self.matches("\\\\s")`, message: "url must not contain whitespace" },
    {
      path: prefix,
      rule: `!has(self.sha256) || self.sha256 == "" || !has(self.url) || !self.url.contains("@sha256:") || self.url.endsWith("@sha256:" + self.sha256)`,
      message:
        "sha256 must equal the digest pinned in url (…@sha256:<hex>); Istio refuses the module otherwise",
    },
    {
      path: `${prefix}.vmConfig.env[]`,
      rule: `!has(self.value) || !has(self.valueFrom) || self.valueFrom == "INLINE"`,
      message: "value may only be set when valueFrom is INLINE",
    },
    {
      path: `${prefix}.vmConfig.env`,
      rule: `self.all(e, self.filter(f, f.name == e.name).size() == 1)`,
      message: "env names must be unique",
    },
  ];
}

/** CEL rules on the targeting fields (istio/api `type/v1beta1/selector.proto`, `wasm.proto` list-map keys). */
export const placementCelRules: CelRule[] = [
  {
    path: "spec.selector.matchLabels",
    rule: `self.all(k, !k.contains("*") && !self[k].contains("*"))`,
    message: "wildcards are not allowed in selector labels",
  },
  {
    path: "spec.selector.matchLabels",
    rule: `self.all(k, k.size() != 0)`,
    message: "selector label keys must not be empty",
  },
  {
    path: "spec.match[].ports",
    rule: `self.all(p, self.filter(q, q.number == p.number).size() == 1)`,
    message: "ports must be unique within a match",
  },
  {
    path: "spec.targetRefs[]",
    rule: `!has(self.namespace) || self.namespace.size() == 0`,
    message: "cross-namespace targetRefs are not supported",
  },
  {
    // PolicyTargetReference's rule, `[self.group, self.kind] in [...]`, with the kinds the proto documents
    // since GatewayClass and ServiceEntry targets (wasm.proto targetRefs); an absent group reads as "".
    path: "spec.targetRefs[]",
    rule: `[has(self.group) ? self.group : "", self.kind] in [["core", "Service"], ["", "Service"], ["gateway.networking.k8s.io", "Gateway"], ["gateway.networking.k8s.io", "GatewayClass"], ["networking.istio.io", "ServiceEntry"]]`,
    message:
      "Support kinds are core/Service, gateway.networking.k8s.io/Gateway, gateway.networking.k8s.io/GatewayClass and networking.istio.io/ServiceEntry",
  },
];

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** metadata.name must be a DNS-1123 subdomain (the API server's check for every object name). */
export function metadataNameProblem(resource: Record<string, unknown>) {
  const name = (resource.metadata as Record<string, unknown> | undefined)?.name;
  if (typeof name === "string" && dns1123Subdomain.test(name) && name.length <= 253) return [];
  return [
    {
      path: "metadata.name",
      message: `${JSON.stringify(name)} is not a DNS-1123 name (lowercase letters, digits, '-' and '.')`,
    },
  ];
}
