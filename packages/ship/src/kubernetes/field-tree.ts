/**
 * Unknown and null fields, which the compiled `@kubernetes-models` schemas let through: they do not set
 * `additionalProperties: false`, and they mark optional fields nullable. A strict API server
 * (`fieldValidation=Strict`) rejects an unknown field, a lenient one prunes it silently, so a typo such as
 * `phaze:` would otherwise pass unnoticed; an empty YAML value (`url:`) is null, which the API server rejects.
 * The compiled validators do not expose their schemas, hence these small trees of the fields each kind has.
 */
import type { ResourceProblem } from "./resource-problem.ts";

/** Known fields: a nested tree, "leaf" (a scalar or list of scalars) or "any" (free-form below). */
export type FieldTree = { [key: string]: FieldTree | "any" | "leaf" };

/** Adds a problem for every key of `value` (lists: of each item) that `tree` does not know. */
export function unknownFields(value: unknown, tree: FieldTree, path: string, out: ResourceProblem[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      unknownFields(item, tree, `${path}[${i}]`, out);
    });
    return;
  }
  if (!value || typeof value !== "object") return;
  for (const [key, child] of Object.entries(value)) {
    const sub = tree[key];
    const childPath = path ? `${path}.${key}` : key;
    if (sub === undefined) {
      out.push({
        path: childPath,
        message: `unknown field "${key}" (allowed: ${Object.keys(tree).join(", ")})`,
      });
    } else if (typeof sub === "object") {
      unknownFields(child, sub, childPath, out);
    }
  }
}

/** Adds a problem for every null below `value`, except under the free-form keys named in `freeForm`. */
export function nullFields(
  value: unknown,
  path: string,
  out: ResourceProblem[],
  freeForm: ReadonlySet<string>,
): void {
  if (value === null) {
    out.push({ path, message: "must not be null (an empty YAML value)" });
    return;
  }
  if (!value || typeof value !== "object") return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    if (freeForm.has(childPath.replace(/\[\d+\]/g, "[]"))) continue;
    nullFields(child, childPath, out, freeForm);
  }
}
