/**
 * `typed_config` handling: an `Any` carries its type in `@type`; Envoy also accepts the
 * `udpa.type.v1.TypedStruct` / `xds.type.v3.TypedStruct` wrapper (`type_url` + `value`), which seed 003 uses.
 */
import { ConfigMessage, type ConfigValue } from "./fields.ts";

const TYPED_STRUCTS = new Set([
  "type.googleapis.com/udpa.type.v1.TypedStruct",
  "type.googleapis.com/xds.type.v3.TypedStruct",
]);

/** Strips the `type.googleapis.com/` (or any host) prefix of a type URL. */
export function typeName(typeUrl: string): string {
  const slash = typeUrl.lastIndexOf("/");
  return slash >= 0 ? typeUrl.slice(slash + 1) : typeUrl;
}

export interface TypedConfig {
  /** Fully qualified message name, e.g. `envoy.extensions.filters.http.wasm.v3.Wasm`. */
  type: string;
  /** The message body, `@type` already consumed. */
  message: ConfigMessage;
}

/** Reads an `Any` (possibly a TypedStruct) and returns its type and body. */
export function readTypedConfig(value: ConfigValue): TypedConfig {
  const any = value.message();
  const typeUrl = any.required("@type").nonEmptyString();
  if (TYPED_STRUCTS.has(typeUrl)) {
    const inner = any.required("type_url").nonEmptyString();
    const body = any.optional("value");
    any.finish();
    const message = body ? body.message() : new ConfigMessage(any.child("value"), {});
    return { type: typeName(inner), message };
  }
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(any.raw)) if (k !== "@type") rest[k] = v;
  return { type: typeName(typeUrl), message: new ConfigMessage(value.path, rest) };
}

/** Requires the typed config to be one of `expected`; the error lists what is supported. */
export function expectType(config: TypedConfig, expected: readonly string[]): void {
  if (!expected.includes(config.type)) {
    config.message.fail(`unsupported type ${config.type} (supported: ${expected.join(", ")})`);
  }
}
