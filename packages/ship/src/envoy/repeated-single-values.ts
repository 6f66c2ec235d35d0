/**
 * Envoy reads YAML as protobuf JSON with the legacy parser (`source/common/protobuf/utility.cc`
 * `MessageUtil::loadFromJson`, protobuf's `JsonStringToMessage`), which takes a single value where a repeated
 * field expects a list and reads it as a list of that one value: the Rust SDK's example envoy.yaml files write
 * `listeners:` as one map, and `pwts run` accepts it (packages/proxy `ConfigValue.list`). `@bufbuild/protobuf`'s
 * `fromJson` is strict, so before checking, such values are wrapped into one-element lists, everywhere the
 * descriptors say a field is repeated (inside `Any` and TypedStruct too).
 *
 * The proxy's reader is not reused: it is a hand-written per-field reader that knows a field is repeated only
 * when its code asks for a list, while this check walks Envoy's descriptors; and DESIGN.md's dependency
 * lines (`cli -> proxy -> host`) do not have the shipping library depend on the data plane.
 */
import type { DescMessage, Registry } from "@bufbuild/protobuf";
import { typedStructTypes } from "./proto-json-check.ts";

type Json = Record<string, unknown>;

/** A copy of `json` (a `desc` message in proto JSON) with lone values of repeated fields put in lists. */
export function wrapSingleRepeatedValues(desc: DescMessage, json: unknown, registry: Registry): unknown {
  if (desc.typeName === "google.protobuf.Any") return wrapAny(json, registry);
  if (!json || typeof json !== "object" || Array.isArray(json)) return json;
  const out: Json = {};
  for (const [key, value] of Object.entries(json as Json)) {
    const field = desc.fields.find((f) => f.name === key || f.jsonName === key);
    if (!field || value === null) {
      out[key] = value;
    } else if (field.fieldKind === "list") {
      const items = Array.isArray(value) ? value : [value];
      out[key] =
        field.listKind === "message"
          ? items.map((v) => wrapSingleRepeatedValues(field.message, v, registry))
          : items;
    } else if (field.fieldKind === "message") {
      out[key] = wrapSingleRepeatedValues(field.message, value, registry);
    } else if (field.fieldKind === "map" && field.mapKind === "message" && typeof value === "object") {
      out[key] = Object.fromEntries(
        Object.entries(value as Json).map(([k, v]) => [
          k,
          wrapSingleRepeatedValues(field.message, v, registry),
        ]),
      );
    } else out[key] = value;
  }
  if (typedStructTypes.has(desc.typeName)) wrapTypedStructValue(out, registry);
  return out;
}

function wrapAny(json: unknown, registry: Registry): unknown {
  if (!json || typeof json !== "object" || Array.isArray(json)) return json;
  const typeUrl = (json as Json)["@type"];
  const target =
    typeof typeUrl === "string"
      ? registry.getMessage(typeUrl.slice(typeUrl.lastIndexOf("/") + 1))
      : undefined;
  if (!target || target.typeName.startsWith("google.protobuf.")) return json;
  return { ...(wrapSingleRepeatedValues(target, json, registry) as Json), "@type": typeUrl };
}

function wrapTypedStructValue(object: Json, registry: Registry): void {
  const typeUrl = object.type_url ?? object.typeUrl;
  if (typeof typeUrl !== "string") return;
  const target = registry.getMessage(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
  if (target && object.value) object.value = wrapSingleRepeatedValues(target, object.value, registry);
}
