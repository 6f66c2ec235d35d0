/**
 * Structural check of a proto3-JSON document (an Envoy config as YAML/JSON) against a message type.
 *
 * `@bufbuild/protobuf`'s `fromJson` does the real work (field types, enums, durations, `Any` with its `@type`,
 * unknown-field rejection) but stops at the first error and does not say where it was. This walk descends
 * the document next to the descriptors and asks `fromJson` about each piece, so that every problem is
 * reported, each with its field path (`static_resources.clusters[0].connect_timeout`).
 */
import {
  type DescField,
  type DescMessage,
  fromJson,
  type JsonValue,
  type Registry,
} from "@bufbuild/protobuf";

/** One problem found in a config, located by its field path. */
export interface FieldProblem {
  path: string;
  message: string;
  /** Errors unless said otherwise; deprecated fields are warnings (Envoy still accepts them). */
  severity?: "warning";
}

/** Well-known types whose JSON form is not an object of their fields: `fromJson` checks them whole. */
const specialJsonTypes = new Set([
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.FieldMask",
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

/** Envoy unpacks these wrappers as the message named by `type_url`, so their `value` is checked as that type. */
export const typedStructTypes = new Set(["xds.type.v3.TypedStruct", "udpa.type.v1.TypedStruct"]);

/** Checks `json` against `desc`; returns every problem found (empty when `fromJson` would accept it). */
export function checkProtoJson(
  desc: DescMessage,
  json: unknown,
  registry: Registry,
  rootPath = "",
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  checkMessage(desc, json, registry, rootPath, problems);
  if (problems.length === 0) {
    // Anything the walk did not model (e.g. a oneof set twice) still surfaces, at the root.
    try {
      fromJson(desc, json as JsonValue, { registry });
    } catch (err) {
      problems.push({ path: rootPath || "(root)", message: decodeMessage(err) });
    }
  }
  return problems;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function decodeMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkMessage(
  desc: DescMessage,
  json: unknown,
  registry: Registry,
  path: string,
  out: FieldProblem[],
): void {
  if (json === null) return;
  if (specialJsonTypes.has(desc.typeName)) {
    tryDecode(desc, json, registry, path, out);
    return;
  }
  if (desc.typeName === "google.protobuf.Any") {
    checkAny(json, registry, path, out);
    return;
  }
  if (typeof json !== "object" || Array.isArray(json)) {
    out.push({
      path: path || "(root)",
      message: `expected an object (${desc.typeName}), got ${describe(json)}`,
    });
    return;
  }
  const object = json as Record<string, unknown>;
  for (const [key, value] of Object.entries(object)) {
    const field = desc.fields.find((f) => f.name === key || f.jsonName === key);
    if (!field) {
      out.push({
        path: join(path, key),
        message: `unknown field "${key}" in ${desc.typeName}${suggest(key, desc)}`,
      });
      continue;
    }
    checkField(desc, field, key, value, registry, join(path, key), out);
  }
  if (typedStructTypes.has(desc.typeName)) checkTypedStruct(object, registry, path, out);
}

function checkField(
  parent: DescMessage,
  field: DescField,
  key: string,
  value: unknown,
  registry: Registry,
  path: string,
  out: FieldProblem[],
): void {
  if (value === null) return;
  switch (field.fieldKind) {
    case "message":
      checkMessage(field.message, value, registry, path, out);
      return;
    case "list":
      if (!Array.isArray(value)) {
        out.push({ path, message: `expected a list, got ${describe(value)}` });
        return;
      }
      if (field.listKind === "message") {
        value.forEach((item, i) => {
          checkMessage(field.message, item, registry, `${path}[${i}]`, out);
        });
      } else {
        tryDecode(parent, { [key]: value }, registry, path, out, field);
      }
      return;
    case "map":
      if (typeof value !== "object" || Array.isArray(value)) {
        out.push({ path, message: `expected a map (object), got ${describe(value)}` });
        return;
      }
      if (field.mapKind === "message") {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          checkMessage(field.message, v, registry, `${path}.${k}`, out);
        }
      } else {
        tryDecode(parent, { [key]: value }, registry, path, out);
      }
      return;
    default:
      // scalar or enum: decode the field alone inside its parent message.
      tryDecode(parent, { [key]: value }, registry, path, out, field);
  }
}

function checkAny(json: unknown, registry: Registry, path: string, out: FieldProblem[]): void {
  if (typeof json !== "object" || Array.isArray(json) || json === null) {
    out.push({ path, message: `expected an object with "@type", got ${describe(json)}` });
    return;
  }
  const { "@type": typeUrl, ...rest } = json as Record<string, unknown>;
  if (typeof typeUrl !== "string" || typeUrl === "") {
    out.push({
      path: join(path, "@type"),
      message: `missing "@type" (e.g. type.googleapis.com/<message name>)`,
    });
    return;
  }
  const typeName = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
  const target = registry.getMessage(typeName);
  if (!target) {
    out.push({ path: join(path, "@type"), message: unknownType(typeUrl, typeName, registry) });
    return;
  }
  const inner = specialJsonTypes.has(target.typeName) ? rest.value : rest;
  checkMessage(target, inner, registry, `${path}<${target.name}>`, out);
}

function checkTypedStruct(
  object: Record<string, unknown>,
  registry: Registry,
  path: string,
  out: FieldProblem[],
): void {
  const typeUrl = object.type_url ?? object.typeUrl;
  if (typeof typeUrl !== "string") return;
  const typeName = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
  const target = registry.getMessage(typeName);
  if (!target) {
    out.push({ path: join(path, "type_url"), message: unknownType(typeUrl, typeName, registry) });
    return;
  }
  checkMessage(target, object.value ?? {}, registry, `${join(path, "value")}<${target.name}>`, out);
}

/** The message for a type URL the registry lacks, with the closest known message name as a hint. */
function unknownType(typeUrl: string, typeName: string, registry: Registry): string {
  let best: { name: string; distance: number } | undefined;
  for (const type of registry) {
    if (type.kind !== "message") continue;
    const d = editDistance(typeName, type.typeName);
    if (d <= 3 && (!best || d < best.distance)) best = { name: type.typeName, distance: d };
  }
  const hint = best ? ` (did you mean type.googleapis.com/${best.name}?)` : "";
  return `"${typeUrl}" names no message in Envoy's v3 API${hint}`;
}

function tryDecode(
  desc: DescMessage,
  json: unknown,
  registry: Registry,
  path: string,
  out: FieldProblem[],
  field?: DescField,
): void {
  try {
    fromJson(desc, json as JsonValue, { registry });
  } catch (err) {
    out.push({ path: path || "(root)", message: `${decodeMessage(err)}${enumHint(field)}` });
  }
}

/** For a bad enum value, the names Envoy accepts. */
function enumHint(field: DescField | undefined): string {
  const values =
    field?.fieldKind === "enum"
      ? field.enum.values
      : field?.fieldKind === "list" && field.listKind === "enum"
        ? field.enum.values
        : undefined;
  return values ? ` (expected one of ${values.map((v) => v.name).join(", ")})` : "";
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** "did you mean" for a misspelt field: the known field within edit distance 2, if any. */
function suggest(key: string, desc: DescMessage): string {
  let best: { name: string; distance: number } | undefined;
  for (const f of desc.fields) {
    const d = editDistance(key, f.name);
    if (d <= 2 && (!best || d < best.distance)) best = { name: f.name, distance: d };
  }
  return best ? ` (did you mean "${best.name}"?)` : "";
}

// Levenshtein distance; a dozen lines here beat a dependency for one hint.
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
