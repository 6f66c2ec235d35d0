/**
 * Runs a `@kubernetes-models` model's compiled structural schema (ajv, generated from the project's CRD or API
 * types) and turns its errors into field-path problems. The models compile some enums twice (one schema per
 * API version they merged), so identical problems are reported once.
 */
import { pointerToFieldPath } from "../json-pointer.ts";
import type { ResourceProblem } from "./resource-problem.ts";

/** A generated model class: construct with the data, `validate()` throws with ajv `errors`. */
export type KubernetesModel = new (data: never) => { validate(): void };

interface AjvError {
  instancePath: string;
  message?: string;
  params?: { allowedValues?: unknown[] };
}

/** Problems the model's schema finds in `resource` (empty when it passes). */
export function checkModelSchema(Model: KubernetesModel, resource: unknown): ResourceProblem[] {
  try {
    new Model(resource as never).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!errors) throw err;
    const seen = new Set<string>();
    const out: ResourceProblem[] = [];
    for (const e of errors) {
      const allowed = e.params?.allowedValues;
      const problem = {
        path: pointerToFieldPath(e.instancePath),
        message: `${e.message ?? "invalid"}${allowed ? `: ${allowed.join(", ")}` : ""}`,
      };
      const key = `${problem.path}\n${problem.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(problem);
    }
    return out;
  }
}
