/** Reading parsed YAML/JSON without trusting its shape. */
export type JsonObject = Record<string, unknown>;

/** The value if it is a plain object (not an array, not null), else undefined. */
export function asObject(v: unknown): JsonObject | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

/** The value if it is an array, else an empty one. */
export function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
