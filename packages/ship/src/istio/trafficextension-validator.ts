/**
 * Offline validation of `extensions.istio.io/v1alpha1` TrafficExtension resources (Istio 1.30+).
 *
 * No registry package ships the TrafficExtension CRD: `@kubernetes-models/istio` is generated from Istio
 * 1.29.2, and the CRD itself (istio/api `kubernetes/customresourcedefinitions.gen.yaml`) is published only in
 * Istio's repository and release charts. Its Wasm part is built from the same `wasm.proto` message types as
 * WasmPlugin (traffic_extension.proto imports PluginPhase, FailStrategy, PullPolicy, VmConfig, PluginType and
 * its TrafficSelector is identical), so the structural check runs the WasmPlugin CRD schema over those fields,
 * with paths mapped back to `spec.wasm.*`. The TrafficExtension-only parts (wasm XOR lua, `lua.inlineCode`,
 * and `phase`, whose CRD enum is its ExecutionPhase: UNSPECIFIED, AUTHN, AUTHZ, STATS, where WasmPlugin's says
 * UNSPECIFIED_PHASE) are CEL rules from istio/api `extensions/v1alpha1/traffic_extension.proto` (commit
 * a01e54cb).
 */
import { type CelRule, checkCelRules } from "../kubernetes/cel-rules.ts";
import { type FieldTree, nullFields, unknownFields } from "../kubernetes/field-tree.ts";
import { checkModelSchema } from "../kubernetes/model-schema-check.ts";
import type { ResourceProblem } from "../kubernetes/resource-problem.ts";
import { atLeast, defaultTargetVersions, type TargetVersions } from "../kubernetes/target-versions.ts";
import {
  metadataNameProblem,
  moduleCelRules,
  placementCelRules,
  placementFields,
  WasmPluginModel,
  wasmModuleFields,
} from "./wasm-plugin-schema.ts";

const trafficExtensionFields: FieldTree = {
  apiVersion: "leaf",
  kind: "leaf",
  metadata: "any",
  status: "any",
  spec: { ...placementFields, wasm: wasmModuleFields, lua: { inlineCode: "leaf" } },
};

const trafficExtensionCelRules: CelRule[] = [
  // +kubebuilder:validation:XValidation rules on message TrafficExtension, verbatim.
  {
    path: "spec",
    rule: "(has(self.selector)?1:0)+(has(self.targetRefs)?1:0)<=1",
    message: "only one of targetRefs or selector can be set",
  },
  {
    path: "spec",
    rule: "has(self.wasm) != has(self.lua)",
    message: "exactly one of wasm or lua must be set",
  },
  {
    path: "spec.phase",
    rule: "type(self) == string && self in ['UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS']",
    message: "must be equal to one of the allowed values: UNSPECIFIED, AUTHN, AUTHZ, STATS",
  },
  // targetRefs: +kubebuilder:validation:MaxItems=16
  { path: "spec.targetRefs", rule: "self.size() <= 16", message: "must have at most 16 items" },
  // LuaConfig.inline_code: REQUIRED, MinLength=1, MaxLength=65536
  { path: "spec.lua", rule: "has(self.inlineCode)", message: "inlineCode: Required value" },
  {
    path: "spec.lua.inlineCode",
    rule: "self.size() >= 1 && self.size() <= 65536",
    message: "inlineCode must be 1 to 65536 characters long",
  },
  ...moduleCelRules("spec.wasm"),
  ...placementCelRules,
];

const moduleKeys = new Set(Object.keys(wasmModuleFields));
const freeForm = new Set(["spec.wasm.pluginConfig"]);

/** Validates one TrafficExtension document for an Istio version; returns every problem found. */
export function validateTrafficExtension(
  resource: unknown,
  versions: TargetVersions = {},
): ResourceProblem[] {
  if (!resource || typeof resource !== "object" || Array.isArray(resource)) {
    return [{ path: "(root)", message: "expected a TrafficExtension object" }];
  }
  const doc = resource as Record<string, unknown>;
  const out: ResourceProblem[] = [];
  const istio = versions.istio ?? defaultTargetVersions.istio;
  if (!atLeast(istio, 1, 30)) {
    out.push({
      path: "(root)",
      message: `TrafficExtension needs Istio 1.30 or later (checking for ${istio})`,
    });
  }
  out.push(...structuralProblems(doc));
  unknownFields(doc, trafficExtensionFields, "", out);
  nullFields(doc.spec, "spec", out, freeForm);
  out.push(...metadataNameProblem(doc));
  out.push(...checkCelRules(doc, trafficExtensionCelRules));
  return out;
}

/** The WasmPlugin schema over the shared fields: spec.wasm's fields are laid flat into a WasmPlugin spec. */
function structuralProblems(doc: Record<string, unknown>): ResourceProblem[] {
  const spec = doc.spec;
  if (spec === undefined) return [{ path: "spec", message: "must have required property spec" }];
  if (!spec || typeof spec !== "object" || Array.isArray(spec)) {
    return [{ path: "spec", message: `must be object` }];
  }
  // phase has its own enum (a CEL rule above); lua is not a WasmPlugin field.
  const { wasm, lua: _lua, phase: _phase, ...placement } = spec as Record<string, unknown>;
  const asWasmPlugin = {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: doc.metadata,
    // Without wasm (a Lua extension) only the placement fields are checked; WasmPlugin's required url is not.
    spec: { ...placement, ...(wasm && typeof wasm === "object" ? wasm : { url: "lua" }) },
  };
  if (wasm !== undefined && (wasm === null || typeof wasm !== "object" || Array.isArray(wasm))) {
    return [{ path: "spec.wasm", message: "must be object" }];
  }
  return checkModelSchema(WasmPluginModel, asWasmPlugin).map((p) => ({ ...p, path: toWasmPath(p) }));
}

/** `spec.url` → `spec.wasm.url`; a missing url (reported on `spec`) belongs to `spec.wasm`. */
function toWasmPath(p: ResourceProblem): string {
  const m = /^spec\.([A-Za-z0-9]+)(.*)$/.exec(p.path);
  if (m?.[1] && moduleKeys.has(m[1])) return `spec.wasm.${m[1]}${m[2] ?? ""}`;
  if (p.path === "spec" && /required property/.test(p.message)) return "spec.wasm";
  return p.path;
}
