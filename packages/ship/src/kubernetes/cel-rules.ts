/**
 * The `x-kubernetes-validations` CEL rules of a CRD, evaluated with `@bufbuild/cel` on the value at each
 * rule's path, as the API server does (`self` is the value at that path; a rule on an absent field is not
 * run). No registry package ships these rules (the `@kubernetes-models` packages compile only the structural
 * schema), so each kind lists its rules with the upstream file they come from.
 */
import { run } from "@bufbuild/cel";
import type { ResourceProblem } from "./resource-problem.ts";

/** A CEL rule applied to the value at `path` (`[]` = each list item), with the message shown on failure. */
export interface CelRule {
  path: string;
  rule: string;
  message: string;
}

/** Runs every rule where its path exists; a rule that fails or cannot run is a problem at that path. */
export function checkCelRules(doc: unknown, rules: readonly CelRule[]): ResourceProblem[] {
  const out: ResourceProblem[] = [];
  for (const rule of rules) {
    for (const { path, value } of valuesAt(doc, rule.path)) {
      if (value === undefined || value === null) continue;
      const result = evaluate(rule.rule, value);
      if (result !== true) out.push({ path, message: typeof result === "string" ? result : rule.message });
    }
  }
  return out;
}

/** The values at a dotted path where `[]` fans out over list items. */
function valuesAt(doc: unknown, path: string): Array<{ path: string; value: unknown }> {
  let current: Array<{ path: string; value: unknown }> = [{ path: "", value: doc }];
  for (const part of path.split(".")) {
    const each = part.endsWith("[]");
    const key = each ? part.slice(0, -2) : part;
    const next: Array<{ path: string; value: unknown }> = [];
    for (const { path: p, value } of current) {
      if (!value || typeof value !== "object" || Array.isArray(value)) continue;
      const child = (value as Record<string, unknown>)[key];
      const childPath = p ? `${p}.${key}` : key;
      if (each) {
        if (Array.isArray(child)) {
          for (const [i, item] of child.entries()) next.push({ path: `${childPath}[${i}]`, value: item });
        }
      } else next.push({ path: childPath, value: child });
    }
    current = next;
  }
  return current;
}

/** CEL sees YAML values as CEL maps, lists, ints (Kubernetes integers) and strings. */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === "object") {
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  }
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  return value;
}

/** True when the rule holds; false when not; a string when the rule could not be evaluated on this value. */
function evaluate(rule: string, value: unknown): boolean | string {
  try {
    const result = run(rule, { self: toCel(value) as never });
    if (result === true || result === false) return result;
    return `rule could not be evaluated on this value (${String((result as Error).message ?? result)})`;
  } catch (err) {
    return `rule could not be evaluated on this value (${(err as Error).message})`;
  }
}
