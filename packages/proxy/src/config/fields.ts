/**
 * Strict reader over one message of a parsed YAML/JSON config. Every accessor records the field as
 * known; `finish()` then rejects whatever is left, so an unsupported field is never silently ignored.
 * Envoy accepts proto JSON names in snake_case and lowerCamelCase; so does this reader.
 */
import { ConfigError } from "./config-error.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A protobuf enum value name (UPPER_SNAKE_CASE). */
const ENUM_NAME = /^[A-Z][A-Z0-9_]*$/;

export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** A value at a known path, with typed accessors that throw ConfigError naming the path. */
export class ConfigValue {
  constructor(
    readonly path: string,
    readonly raw: unknown,
  ) {}

  fail(reason: string): never {
    throw new ConfigError(this.path, reason);
  }

  string(): string {
    if (typeof this.raw === "string") return this.raw;
    return this.fail(`expected a string, got ${describe(this.raw)}`);
  }

  nonEmptyString(): string {
    const s = this.string();
    if (s === "") this.fail("must not be empty");
    return s;
  }

  bool(): boolean {
    if (typeof this.raw === "boolean") return this.raw;
    return this.fail(`expected true or false, got ${describe(this.raw)}`);
  }

  /** Integers may be written as strings in proto JSON (uint64/int64). */
  integer(min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const n = typeof this.raw === "string" && /^-?\d+$/.test(this.raw) ? Number(this.raw) : this.raw;
    if (typeof n !== "number" || !Number.isInteger(n))
      this.fail(`expected an integer, got ${describe(this.raw)}`);
    if (n < min || n > max) this.fail(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  }

  /** A wrapper type (`google.protobuf.UInt32Value`) may be written as the number or `{ value: n }`. */
  wrappedInteger(min = 0, max = Number.MAX_SAFE_INTEGER): number {
    if (this.raw !== null && typeof this.raw === "object" && !Array.isArray(this.raw)) {
      const m = this.message();
      const v = m.required("value").integer(min, max);
      m.finish();
      return v;
    }
    return this.integer(min, max);
  }

  wrappedBool(): boolean {
    if (this.raw !== null && typeof this.raw === "object" && !Array.isArray(this.raw)) {
      const m = this.message();
      const v = m.required("value").bool();
      m.finish();
      return v;
    }
    return this.bool();
  }

  /**
   * One of a set of names (an enum). Envoy parses with protobuf's case_insensitive_enum_parsing (protobuf
   * utility.cc MessageUtil::loadFromJsonNoThrow), which retries an unknown enum name upper-cased, so `auto`
   * reads as AUTO; names that are not enum-like (lower-case extension names) still match exactly.
   */
  oneOf<T extends string>(allowed: readonly T[]): T {
    const enumLike = allowed.every((a) => ENUM_NAME.test(a));
    if (typeof this.raw === "number" && enumLike) {
      // Protobuf JSON takes an enum's number as well as its name; `allowed` lists the names in the enum's
      // number order from 0 (a prefix of it: later values are the ones not supported here).
      const name = Number.isInteger(this.raw) ? allowed[this.raw] : undefined;
      if (name === undefined) {
        this.fail(
          `expected one of ${allowed.join(", ")} (or its number, 0 to ${allowed.length - 1}), got ${this.raw}`,
        );
      }
      return name;
    }
    let s = this.string();
    if (!(allowed as readonly string[]).includes(s) && enumLike) {
      s = s.toUpperCase();
    }
    if (!(allowed as readonly string[]).includes(s)) {
      this.fail(`expected one of ${allowed.join(", ")}, got ${JSON.stringify(s)}`);
    }
    return s as T;
  }

  /** A google.protobuf.Duration: "1.5s" in proto JSON, or `{ seconds, nanos }`. Returns milliseconds. */
  durationMs(): number {
    if (typeof this.raw === "string") {
      const m = /^(\d+(?:\.\d+)?)s$/.exec(this.raw);
      if (!m) this.fail(`expected a duration such as "5s" or "0.25s", got ${JSON.stringify(this.raw)}`);
      return Number(m[1]) * 1000;
    }
    if (this.raw !== null && typeof this.raw === "object" && !Array.isArray(this.raw)) {
      const msg = this.message();
      const seconds = msg.optional("seconds")?.integer() ?? 0;
      const nanos = msg.optional("nanos")?.integer(0, 999_999_999) ?? 0;
      msg.finish();
      return seconds * 1000 + nanos / 1e6;
    }
    return this.fail(`expected a duration such as "5s", got ${describe(this.raw)}`);
  }

  /**
   * A repeated field. Envoy reads YAML as protobuf JSON with the legacy parser, which takes a single value
   * where a list is expected as a list of that one value (the Rust SDK's example envoy.yaml files write
   * `listeners:` as one map), so a value that is not a list is read as `[value]` (path `name[0]`).
   */
  list(): ConfigValue[] {
    if (!Array.isArray(this.raw)) return [new ConfigValue(`${this.path}[0]`, this.raw)];
    return this.raw.map((item, i) => new ConfigValue(`${this.path}[${i}]`, item));
  }

  message(): ConfigMessage {
    if (this.raw === null || typeof this.raw !== "object" || Array.isArray(this.raw)) {
      return this.fail(`expected a map, got ${describe(this.raw)}`);
    }
    return new ConfigMessage(this.path, this.raw as Record<string, unknown>);
  }

  /** A map with free-form keys (metadata, key_values). */
  entries(): Array<[string, ConfigValue]> {
    if (this.raw === null || typeof this.raw !== "object" || Array.isArray(this.raw)) {
      return this.fail(`expected a map, got ${describe(this.raw)}`);
    }
    return Object.entries(this.raw).map(([k, v]) => [k, new ConfigValue(this.child(k), v)]);
  }

  child(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }
}

/** One protobuf message in the document. */
export class ConfigMessage {
  private readonly used = new Set<string>();

  constructor(
    readonly path: string,
    readonly raw: Record<string, unknown>,
  ) {}

  private key(name: string): string | undefined {
    if (name in this.raw) return name;
    const camel = camelCase(name);
    if (camel in this.raw) return camel;
    return undefined;
  }

  has(name: string): boolean {
    return this.key(name) !== undefined;
  }

  optional(name: string): ConfigValue | undefined {
    const key = this.key(name);
    this.used.add(name).add(camelCase(name));
    if (key === undefined || this.raw[key] === null || this.raw[key] === undefined) return undefined;
    return new ConfigValue(this.child(key), this.raw[key]);
  }

  required(name: string): ConfigValue {
    const v = this.optional(name);
    if (!v) throw new ConfigError(this.child(name), "is required");
    return v;
  }

  /** Exactly one of the named fields (a proto `oneof`); returns its name and value. */
  oneOf(names: readonly string[], required = true): [string, ConfigValue] | undefined {
    const present = names.filter((n) => this.has(n));
    for (const n of names) this.used.add(n).add(camelCase(n));
    if (present.length > 1) {
      throw new ConfigError(this.path, `only one of ${present.join(", ")} may be set`);
    }
    if (present.length === 0) {
      if (required) throw new ConfigError(this.path, `one of ${names.join(", ")} is required`);
      return undefined;
    }
    const name = present[0]!;
    return [name, this.optional(name)!];
  }

  /** Marks fields that are accepted and have no effect here (documented Envoy knobs with a safe default). */
  accept(...names: string[]): void {
    for (const n of names) this.used.add(n).add(camelCase(n));
  }

  child(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  fail(reason: string): never {
    throw new ConfigError(this.path, reason);
  }

  /** Rejects any field no accessor asked for. */
  finish(): void {
    for (const key of Object.keys(this.raw)) {
      if (!this.used.has(key)) {
        const snake = [...this.used].filter((k) => k === k.toLowerCase()).sort();
        throw new ConfigError(
          this.child(key),
          `unknown or unsupported field (supported here: ${snake.join(", ") || "none"})`,
        );
      }
    }
  }
}
