/**
 * TrafficExtension from the WasmPlugin the same plugin gets: TrafficExtension keeps the targeting and ordering
 * fields at the top of `spec` and moves the module's fields under `spec.wasm` (istio/api
 * `extensions/v1alpha1/traffic_extension.proto`), so both are generated from one deployment. It has no
 * singular `targetRef`. Callout wiring (ServiceEntry, EnvoyFilter) is the same for both kinds.
 */
import { wasmModuleFields } from "./wasm-plugin-schema.ts";

type Json = Record<string, unknown>;

const moduleKeys = new Set(Object.keys(wasmModuleFields));

/** Replaces the WasmPlugin in `resources` (the generator's output) by the equivalent TrafficExtension. */
export function toTrafficExtensionResources(resources: Json[]): Json[] {
  return resources.map((resource) => {
    if (resource.kind !== "WasmPlugin") return resource;
    const placement: Json = {};
    const wasm: Json = {};
    for (const [key, value] of Object.entries((resource.spec ?? {}) as Json)) {
      (moduleKeys.has(key) ? wasm : placement)[key] = value;
    }
    // TrafficExtension's ExecutionPhase enum names "no phase" UNSPECIFIED (WasmPlugin: UNSPECIFIED_PHASE).
    if (placement.phase === "UNSPECIFIED_PHASE") placement.phase = "UNSPECIFIED";
    return {
      apiVersion: "extensions.istio.io/v1alpha1",
      kind: "TrafficExtension",
      metadata: resource.metadata,
      spec: { ...placement, wasm },
    };
  });
}
