/**
 * protoc-gen-validate constraints: Envoy runs `Validate()` on every config message after parsing it, with
 * the `(validate.rules)` and `(validate.required)` options written in its protos. This checker reads those
 * options from the descriptors and applies the rule kinds Envoy's API uses for configs: string length and
 * prefix, numeric bounds, `in`/`not_in`, defined enums, list sizes and item rules, map sizes, durations,
 * required messages and required oneofs. (Regex, well-known string formats such as hostnames, and
 * timestamp rules are not checked.)
 *
 * It walks the canonical proto-JSON (`toJson` with proto field names) of a config that already decoded, and
 * also reports fields the protos mark `deprecated` (as warnings).
 */
import {
  type DescExtension,
  type DescField,
  type DescMessage,
  type DescOneof,
  getOption,
  hasOption,
  type Registry,
  toJson,
} from "@bufbuild/protobuf";
import type { FieldProblem } from "./proto-json-check.ts";
import { typedStructTypes } from "./proto-json-check.ts";

type Json = Record<string, unknown>;

interface RuleOptions {
  fieldRules: DescExtension;
  oneofRequired: DescExtension;
}

/** Applies the PGV rules of `desc` (and of every nested message) to canonical JSON `json`. */
export function checkPgvRules(
  desc: DescMessage,
  json: Json,
  registry: Registry,
  rootPath = "",
): FieldProblem[] {
  const fieldRules = registry.getExtension("validate.rules");
  const oneofRequired = registry.getExtension("validate.required");
  if (!fieldRules || !oneofRequired) throw new Error("descriptor set lacks validate.proto (validate.rules)");
  const out: FieldProblem[] = [];
  walkMessage(desc, json, registry, { fieldRules, oneofRequired }, rootPath, out);
  return out;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function rulesOf(field: DescField, options: RuleOptions, registry: Registry): Json | undefined {
  const ext = options.fieldRules;
  // The extension comes from a runtime registry, so its TypeScript type is the generic one.
  if (!hasOption(field as never, ext as never)) return undefined;
  const value = getOption(field as never, ext as never);
  if (ext.fieldKind !== "message") return undefined;
  return toJson(ext.message, value as never, { registry }) as Json;
}

function isRequiredOneof(oneof: DescOneof, options: RuleOptions): boolean {
  const ext = options.oneofRequired;
  return hasOption(oneof as never, ext as never) && getOption(oneof as never, ext as never) === true;
}

function walkMessage(
  desc: DescMessage,
  json: Json,
  registry: Registry,
  options: RuleOptions,
  path: string,
  out: FieldProblem[],
): void {
  if (desc.typeName === "google.protobuf.Any") {
    const typeUrl = String(json["@type"] ?? "");
    const target = registry.getMessage(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
    if (target && !target.typeName.startsWith("google.protobuf.")) {
      const { "@type": _, ...rest } = json;
      walkMessage(target, rest, registry, options, `${path}<${target.name}>`, out);
    }
    return;
  }
  if (desc.typeName.startsWith("google.protobuf.")) return;
  if (typedStructTypes.has(desc.typeName)) {
    const typeUrl = String(json.type_url ?? "");
    const target = registry.getMessage(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
    const value = json.value;
    if (target && value && typeof value === "object") {
      walkMessage(target, value as Json, registry, options, `${join(path, "value")}<${target.name}>`, out);
    }
    return;
  }
  for (const oneof of desc.oneofs) {
    if (isRequiredOneof(oneof, options) && !oneof.fields.some((f) => json[f.name] !== undefined)) {
      out.push({
        path: path || "(root)",
        message: `one of ${oneof.fields.map((f) => f.name).join(", ")} is required`,
      });
    }
  }
  for (const field of desc.fields) {
    const value = json[field.name];
    const fieldPath = join(path, field.name);
    const rules = rulesOf(field, options, registry);
    // Fields with explicit presence (oneof members, proto3 optional, messages) are checked only when set;
    // implicit-presence scalars are checked with their default value, as PGV does.
    const explicit = field.oneof !== undefined || field.proto.proto3Optional === true;
    if (rules && !(explicit && value === undefined)) {
      if (value === undefined) {
        const message = rules.message as Json | undefined;
        const duration = rules.duration as Json | undefined;
        if (message?.required === true || duration?.required === true) {
          out.push({ path: fieldPath, message: "is required" });
        } else if (field.fieldKind !== "message") {
          applyRules(field, rules, defaultValue(field), fieldPath, out);
        }
      } else {
        applyRules(field, rules, value, fieldPath, out);
      }
    }
    if (value === undefined || value === null) continue;
    if (field.deprecated) {
      out.push({
        path: fieldPath,
        message: `deprecated in ${desc.typeName}; Envoy may drop it`,
        severity: "warning",
      });
    }
    if (field.fieldKind === "message" && typeof value === "object") {
      walkMessage(field.message, value as Json, registry, options, fieldPath, out);
    } else if (field.fieldKind === "list" && field.listKind === "message" && Array.isArray(value)) {
      value.forEach((item, i) => {
        if (item && typeof item === "object") {
          walkMessage(field.message, item as Json, registry, options, `${fieldPath}[${i}]`, out);
        }
      });
    } else if (field.fieldKind === "map" && field.mapKind === "message" && typeof value === "object") {
      for (const [k, v] of Object.entries(value as Json)) {
        if (v && typeof v === "object")
          walkMessage(field.message, v as Json, registry, options, `${fieldPath}.${k}`, out);
      }
    }
  }
}

function defaultValue(field: DescField): unknown {
  if (field.fieldKind === "list") return [];
  if (field.fieldKind === "map") return {};
  if (field.fieldKind === "enum") return field.enum.values[0]?.name;
  if (field.fieldKind === "scalar") {
    switch (field.scalar) {
      case 9: // STRING
      case 12: // BYTES
        return "";
      case 8: // BOOL
        return false;
      default:
        return 0;
    }
  }
  return undefined;
}

function applyRules(field: DescField, rules: Json, value: unknown, path: string, out: FieldProblem[]): void {
  const problem = (message: string) => out.push({ path, message });
  for (const [kind, raw] of Object.entries(rules)) {
    if (!raw || typeof raw !== "object") continue;
    const r = raw as Json;
    switch (kind) {
      case "string":
      case "bytes": {
        // Canonical JSON has bytes as base64; length rules count decoded bytes.
        const text = String(value ?? "");
        const length = kind === "bytes" ? Buffer.from(text, "base64").length : [...text].length;
        if (r.minLen !== undefined && length < Number(r.minLen)) problem(`length ${length} < ${r.minLen}`);
        if (r.maxLen !== undefined && length > Number(r.maxLen)) problem(`length ${length} > ${r.maxLen}`);
        if (r.len !== undefined && length !== Number(r.len)) problem(`length ${length} != ${r.len}`);
        const bytes = Buffer.byteLength(text);
        if (r.minBytes !== undefined && bytes < Number(r.minBytes)) problem(`${bytes} bytes < ${r.minBytes}`);
        if (r.maxBytes !== undefined && bytes > Number(r.maxBytes)) problem(`${bytes} bytes > ${r.maxBytes}`);
        if (typeof r.prefix === "string" && !text.startsWith(r.prefix))
          problem(`must start with "${r.prefix}"`);
        if (typeof r.suffix === "string" && !text.endsWith(r.suffix)) problem(`must end with "${r.suffix}"`);
        if (typeof r.contains === "string" && !text.includes(r.contains))
          problem(`must contain "${r.contains}"`);
        if (Array.isArray(r.in) && !r.in.includes(text)) problem(`must be one of ${r.in.join(", ")}`);
        if (Array.isArray(r.notIn) && r.notIn.includes(text)) problem(`must not be "${text}"`);
        break;
      }
      case "enum": {
        if (r.definedOnly === true && field.fieldKind === "enum") {
          const known = field.enum.values.some((v) => v.name === value || v.number === value);
          if (!known) problem(`${JSON.stringify(value)} is not a value of ${field.enum.typeName}`);
        }
        if (Array.isArray(r.notIn) && field.fieldKind === "enum") {
          const number = field.enum.values.find((v) => v.name === value)?.number ?? value;
          if (r.notIn.includes(number)) problem(`${JSON.stringify(value)} is not allowed here`);
        }
        break;
      }
      case "repeated": {
        const items = Array.isArray(value) ? value : [];
        if (r.minItems !== undefined && items.length < Number(r.minItems)) {
          problem(`needs at least ${r.minItems} item(s), has ${items.length}`);
        }
        if (r.maxItems !== undefined && items.length > Number(r.maxItems)) {
          problem(`allows at most ${r.maxItems} item(s), has ${items.length}`);
        }
        if (r.items && typeof r.items === "object") {
          items.forEach((item, i) => {
            applyRules(field, r.items as Json, item, `${path}[${i}]`, out);
          });
        }
        break;
      }
      case "map": {
        const size = value && typeof value === "object" ? Object.keys(value).length : 0;
        if (r.minPairs !== undefined && size < Number(r.minPairs))
          problem(`needs at least ${r.minPairs} entries`);
        if (r.maxPairs !== undefined && size > Number(r.maxPairs))
          problem(`allows at most ${r.maxPairs} entries`);
        break;
      }
      case "duration": {
        if (value === undefined) break;
        const seconds = durationSeconds(value);
        if (seconds === undefined) break;
        compareBounds(seconds, r, durationSeconds, problem, (v) => `${v}s`);
        break;
      }
      case "message":
      case "any":
      case "timestamp":
        break;
      default: {
        // Numeric kinds: int32, uint32, int64, uint64, sint*, fixed*, sfixed*, float, double.
        if (value === undefined) break;
        const n = Number(value);
        if (Number.isNaN(n)) break;
        compareBounds(n, r, (v) => Number(v), problem, String);
        if (Array.isArray(r.in) && !r.in.map(Number).includes(n))
          problem(`${n} must be one of ${r.in.join(", ")}`);
        if (Array.isArray(r.notIn) && r.notIn.map(Number).includes(n)) problem(`${n} is not allowed`);
      }
    }
  }
}

function compareBounds(
  n: number,
  r: Json,
  parse: (v: unknown) => number | undefined,
  problem: (m: string) => void,
  show: (v: number) => string,
): void {
  const bound = (key: string) => (r[key] === undefined ? undefined : parse(r[key]));
  const gt = bound("gt");
  const gte = bound("gte");
  const lt = bound("lt");
  const lte = bound("lte");
  const exact = bound("const");
  // PGV: when lt < gt (or similar) the range is exclusive, i.e. the value must lie outside it.
  const below = lt ?? lte;
  const above = gt ?? gte;
  const okAbove = gt !== undefined ? n > gt : gte !== undefined ? n >= gte : true;
  const okBelow = lt !== undefined ? n < lt : lte !== undefined ? n <= lte : true;
  if (below !== undefined && above !== undefined && below < above) {
    if (!okAbove && !okBelow) problem(`${show(n)} must be outside (${show(below)}, ${show(above)})`);
  } else {
    if (!okAbove) problem(`${show(n)} must be ${gt !== undefined ? ">" : ">="} ${show(above as number)}`);
    if (!okBelow) problem(`${show(n)} must be ${lt !== undefined ? "<" : "<="} ${show(below as number)}`);
  }
  if (exact !== undefined && n !== exact) problem(`${show(n)} must equal ${show(exact)}`);
}

function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(value);
  return m ? Number(m[1]) : undefined;
}
