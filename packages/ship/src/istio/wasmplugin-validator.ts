/**
 * Offline validation of `extensions.istio.io/v1alpha1` WasmPlugin resources, in three layers (deploy.md §3):
 *
 * 1. Istio's CRD structural schema, as compiled with ajv into `@kubernetes-models/istio` (generated from
 *    Istio 1.29.2's `crd-all.gen.yaml`): types, enums, required `url`, sha256 pattern, length limits, ports.
 * 2. Unknown and null fields, which a strict API server rejects (see field-tree.ts).
 * 3. The CRD's CEL rules (`x-kubernetes-validations`), evaluated with `@bufbuild/cel`.
 *
 * Then what the chosen Istio version says about the resource (`failOpen`, `FAIL_RELOAD`).
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
  targetRefFields,
  WasmPluginModel,
  wasmModuleFields,
} from "./wasm-plugin-schema.ts";

export type { ResourceProblem } from "../kubernetes/resource-problem.ts";

/** The fields a WasmPlugin may carry (from the CRD's `properties`; `pluginConfig` is free-form). */
const wasmPluginFields: FieldTree = {
  apiVersion: "leaf",
  kind: "leaf",
  metadata: "any",
  status: "any",
  spec: {
    ...placementFields,
    ...wasmModuleFields,
    targetRef: targetRefFields,
    // Removed in Istio 1.29; reported by the version check below rather than as an unknown field.
    failOpen: "leaf",
  },
};

/** From istio/api `extensions/v1alpha1/wasm.proto` (`oneof(self.selector, self.targetRef, self.targetRefs)`). */
const wasmPluginCelRules: CelRule[] = [
  {
    path: "spec",
    rule: `(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1`,
    message: "only one of targetRefs or selector can be set",
  },
  ...moduleCelRules("spec"),
  ...placementCelRules,
];

const freeForm = new Set(["spec.pluginConfig"]);

/** Validates one WasmPlugin document (a parsed YAML object) for an Istio version; returns every problem. */
export function validateWasmPlugin(resource: unknown, versions: TargetVersions = {}): ResourceProblem[] {
  if (!resource || typeof resource !== "object" || Array.isArray(resource)) {
    return [{ path: "(root)", message: "expected a WasmPlugin object" }];
  }
  const doc = resource as Record<string, unknown>;
  const out = checkModelSchema(WasmPluginModel, doc);
  unknownFields(doc, wasmPluginFields, "", out);
  nullFields(doc.spec, "spec", out, freeForm);
  out.push(...metadataNameProblem(doc));
  out.push(...checkCelRules(doc, wasmPluginCelRules));
  out.push(...istioVersionProblems(doc, versions.istio ?? defaultTargetVersions.istio));
  return out;
}

/** What a WasmPlugin's fields mean for one Istio version (istio/api wasm.proto history). */
function istioVersionProblems(doc: Record<string, unknown>, istio: string): ResourceProblem[] {
  const spec = (doc.spec ?? {}) as Record<string, unknown>;
  const out: ResourceProblem[] = [];
  if (spec.failOpen !== undefined) {
    out.push(
      atLeast(istio, 1, 29)
        ? {
            path: "spec.failOpen",
            message: `Istio ${istio} has no failOpen (removed in 1.29); use failStrategy: FAIL_OPEN`,
          }
        : {
            path: "spec.failOpen",
            message: `deprecated in Istio ${istio} and removed in 1.29; use failStrategy: FAIL_OPEN`,
            severity: "warning",
          },
    );
  }
  if (spec.failStrategy === "FAIL_RELOAD" && !atLeast(istio, 1, 29)) {
    out.push({
      path: "spec.failStrategy",
      message: `FAIL_RELOAD arrived in Istio 1.29; Istio ${istio} knows FAIL_CLOSE and FAIL_OPEN only`,
    });
  }
  return out;
}
