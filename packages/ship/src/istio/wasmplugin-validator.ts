/**
 * Offline validation of `extensions.istio.io/v1alpha1` WasmPlugin resources, in three layers (deploy.md §3):
 *
 * 1. Istio's CRD structural schema, as compiled with ajv into `@kubernetes-models/istio` (generated from
 *    Istio 1.29's `crd-all.gen.yaml`): types, enums, required `url`, sha256 pattern, length limits, ports.
 * 2. Unknown fields, which a strict API server rejects (`fieldValidation=Strict`) and a lenient one silently
 *    prunes: a typo such as `phaze:` would otherwise pass unnoticed.
 * 3. CEL rules in the spirit of the CRD's `x-kubernetes-validations` (URL scheme, selector vs targetRefs,
 *    env values, wildcard-free selectors) plus the sha256/URL digest agreement Istio enforces at fetch
 *    time, evaluated with `@bufbuild/cel`.
 */
import { run } from "@bufbuild/cel";
import { WasmPlugin } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1";
import { pointerToFieldPath } from "../json-pointer.ts";

/** One reason a resource is invalid, located by its field path. */
export interface ResourceProblem {
  path: string;
  message: string;
}

type FieldTree = { [key: string]: FieldTree | "any" | "leaf" };

const targetRefFields: FieldTree = { group: "leaf", kind: "leaf", name: "leaf", namespace: "leaf" };

/**
 * The fields a WasmPlugin may carry (from the CRD's `properties`; `pluginConfig` is free-form).
 * The compiled validator in layer 1 does not expose its schema, hence this tree for layer 2.
 */
const wasmPluginFields: FieldTree = {
  apiVersion: "leaf",
  kind: "leaf",
  metadata: "any",
  status: "any",
  spec: {
    selector: { matchLabels: "any" },
    targetRef: targetRefFields,
    targetRefs: targetRefFields,
    url: "leaf",
    sha256: "leaf",
    imagePullPolicy: "leaf",
    imagePullSecret: "leaf",
    verificationKey: "leaf",
    pluginConfig: "any",
    pluginName: "leaf",
    phase: "leaf",
    priority: "leaf",
    vmConfig: { env: { name: "leaf", value: "leaf", valueFrom: "leaf" } },
    match: { mode: "leaf", ports: { number: "leaf" } },
    failStrategy: "leaf",
    type: "leaf",
  },
};

/** A CEL rule applied to the value at `path` (`[]` = each list item), with the message shown on failure. */
interface CelRule {
  path: string;
  rule: string;
  message: string;
}

const celRules: CelRule[] = [
  {
    path: "spec.url",
    rule: `!self.contains("://") || self.matches("^(oci|https?)://[^\\\\s/]+") || self.matches("^file://.+")`,
    message:
      "url must be oci://, http://, https:// or file:// followed by a host or path (no scheme means oci)",
  },
  {
    path: "spec.url",
    rule: `self.contains("://") || self.matches("^[A-Za-z0-9][A-Za-z0-9._/:-]*(@sha256:[a-f0-9]{64})?$")`,
    message: "a url without a scheme must be an image reference (oci:// is the default scheme)",
  },
  {
    path: "spec.url",
    rule: `!self.matches("\\\\s")`,
    message: "url must not contain whitespace",
  },
  {
    path: "spec",
    rule: `!(has(self.selector) && has(self.targetRefs)) && !(has(self.selector) && has(self.targetRef))`,
    message: "only one of selector or targetRefs can be set",
  },
  {
    path: "spec",
    rule: `!(has(self.targetRef) && has(self.targetRefs))`,
    message: "only one of targetRef or targetRefs can be set",
  },
  {
    path: "spec",
    rule: `!has(self.sha256) || self.sha256 == "" || !self.url.contains("@sha256:") || self.url.endsWith("@sha256:" + self.sha256)`,
    message:
      "sha256 must equal the digest pinned in url (…@sha256:<hex>); Istio refuses the module otherwise",
  },
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
    path: "spec.vmConfig.env[]",
    rule: `!has(self.value) || !has(self.valueFrom) || self.valueFrom == "INLINE"`,
    message: "value may only be set when valueFrom is INLINE",
  },
  {
    path: "spec.vmConfig.env",
    rule: `self.all(e, self.filter(f, f.name == e.name).size() == 1)`,
    message: "env names must be unique",
  },
  {
    path: "spec.targetRefs[]",
    rule: `self.kind in ["Gateway", "GatewayClass", "Service", "ServiceEntry"]`,
    message: "targetRefs may reference a Gateway, GatewayClass, Service or ServiceEntry",
  },
];

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Validates one WasmPlugin document (a parsed YAML object); returns every problem found. */
export function validateWasmPlugin(resource: unknown): ResourceProblem[] {
  const out: ResourceProblem[] = [];
  if (!resource || typeof resource !== "object" || Array.isArray(resource)) {
    return [{ path: "(root)", message: "expected a WasmPlugin object" }];
  }
  const doc = resource as Record<string, unknown>;
  try {
    new WasmPlugin(doc as ConstructorParameters<typeof WasmPlugin>[0]).validate();
  } catch (err) {
    const errors = (err as { errors?: Array<{ instancePath: string; message?: string; params?: unknown }> })
      .errors;
    if (!errors) throw err;
    for (const e of errors) {
      const allowed = (e.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
      out.push({
        path: pointerToFieldPath(e.instancePath),
        message: `${e.message ?? "invalid"}${allowed ? `: ${allowed.join(", ")}` : ""}`,
      });
    }
  }
  unknownFields(doc, wasmPluginFields, "", out);
  nullFields(doc.spec, "spec", out);
  const metadata = doc.metadata as Record<string, unknown> | undefined;
  const name = metadata?.name;
  if (typeof name !== "string" || !dns1123Subdomain.test(name) || name.length > 253) {
    out.push({
      path: "metadata.name",
      message: `${JSON.stringify(name)} is not a DNS-1123 name (lowercase letters, digits, '-' and '.')`,
    });
  }
  for (const rule of celRules) {
    for (const { path, value } of valuesAt(doc, rule.path)) {
      if (value === undefined || value === null) continue;
      const result = evaluate(rule.rule, value);
      if (result !== true) out.push({ path, message: typeof result === "string" ? result : rule.message });
    }
  }
  return out;
}

/**
 * The compiled schema marks optional fields nullable; the API server does not: `spec:` or `url:` left empty
 * in YAML is null and rejected. (pluginConfig is free-form and may hold nulls.)
 */
function nullFields(value: unknown, path: string, out: ResourceProblem[]): void {
  if (value === null) {
    out.push({ path, message: "must not be null (an empty YAML value)" });
    return;
  }
  if (!value || typeof value !== "object") return;
  for (const [key, child] of Object.entries(value)) {
    if (path === "spec" && key === "pluginConfig") continue;
    nullFields(child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, out);
  }
}

function unknownFields(value: unknown, tree: FieldTree, path: string, out: ResourceProblem[]): void {
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
