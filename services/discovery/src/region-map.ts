import { readFile } from "node:fs/promises";
import type { HostName } from "./host-name.ts";
import { MalformedHostError, parseHost } from "./host-name.ts";

/**
 * The mapping file: exact hosts and `*.suffix` wildcards to regions, plus a default rule for hosts that match
 * nothing. Without a default, unknown hosts get 404.
 *
 * ```json
 * { "hosts": { "api.example.com": "us_central1", "*.eu.example.com": "europe_west1" },
 *   "default": { "byFirstCharacter": ["us_east1", "us_central1"] } }
 * ```
 */
export interface RegionMapFile {
  hosts?: Record<string, string>;
  default?: DefaultRule;
}

/**
 * What unknown hosts get: one fixed region, or the seed's rule (the first character's code modulo the number of
 * regions picks one), which spreads hosts over regions deterministically without listing them.
 */
export type DefaultRule = string | { byFirstCharacter: string[] };

/** Which rule answered a lookup. */
export type MatchKind = "exact" | "wildcard" | "default";

export interface RegionMatch {
  host: HostName;
  region: string;
  rule: MatchKind;
  /** The mapping key that matched (`api.example.com`, `*.example.com`), or `default`. */
  matched: string;
}

/** Region names become Envoy cluster names through a request header, so keep them to cluster-name characters. */
const REGION = /^[A-Za-z0-9_.-]{1,128}$/;

/** A validated, immutable mapping. */
export class RegionMap {
  private constructor(
    private readonly exact: ReadonlyMap<string, string>,
    /** Wildcard suffixes (".example.com") longest first, so the most specific wins. */
    private readonly wildcards: ReadonlyArray<readonly [string, string]>,
    private readonly defaultRule: DefaultRule | undefined,
  ) {}

  /** Validates a parsed mapping; `source` names it in error messages (a file path, "inline mapping"). */
  static from(value: unknown, source = "mapping"): RegionMap {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error(`${source}: expected a JSON object with "hosts" and/or "default"`);
    }
    const file = value as Record<string, unknown>;
    const unknownKeys = Object.keys(file).filter((k) => k !== "hosts" && k !== "default");
    if (unknownKeys.length > 0) {
      throw new Error(
        `${source}: unknown key ${JSON.stringify(unknownKeys[0])}; expected "hosts" or "default"`,
      );
    }
    const exact = new Map<string, string>();
    const wildcards: [string, string][] = [];
    const hosts = file.hosts ?? {};
    if (typeof hosts !== "object" || hosts === null || Array.isArray(hosts)) {
      throw new Error(`${source}: "hosts" must be an object of host -> region`);
    }
    for (const [key, region] of Object.entries(hosts)) {
      checkRegion(region, `${source}: hosts[${JSON.stringify(key)}]`);
      const wildcard = key.startsWith("*.");
      let host: HostName;
      try {
        host = parseHost(wildcard ? key.slice(2) : key);
      } catch (error) {
        if (error instanceof MalformedHostError)
          throw new Error(`${source}: hosts key ${JSON.stringify(key)}: ${error.message}`);
        throw error;
      }
      if (wildcard) wildcards.push([`.${host}`, region]);
      else exact.set(host, region);
    }
    wildcards.sort((a, b) => b[0].length - a[0].length);
    const rule = file.default;
    if (rule !== undefined) {
      if (typeof rule === "string") checkRegion(rule, `${source}: default`);
      else if (
        typeof rule === "object" &&
        rule !== null &&
        Array.isArray((rule as { byFirstCharacter?: unknown }).byFirstCharacter)
      ) {
        const regions = (rule as { byFirstCharacter: unknown[] }).byFirstCharacter;
        if (regions.length === 0)
          throw new Error(`${source}: default.byFirstCharacter must list at least one region`);
        for (const [i, r] of regions.entries()) checkRegion(r, `${source}: default.byFirstCharacter[${i}]`);
      } else {
        throw new Error(`${source}: default must be a region name or {"byFirstCharacter": [regions...]}`);
      }
    }
    return new RegionMap(exact, wildcards, rule as DefaultRule | undefined);
  }

  /** Reads and validates a JSON mapping file. */
  static async load(path: string): Promise<RegionMap> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new Error(
        `cannot read mapping file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Error(`mapping file ${path} is not valid JSON: ${(error as Error).message}`);
    }
    return RegionMap.from(value, path);
  }

  /** Number of exact and wildcard entries. */
  get size(): number {
    return this.exact.size + this.wildcards.length;
  }

  /** Looks a normalised host up; undefined when nothing matches and there is no default rule. */
  lookup(host: HostName): RegionMatch | undefined {
    const exact = this.exact.get(host);
    if (exact !== undefined) return { host, region: exact, rule: "exact", matched: host };
    for (const [suffix, region] of this.wildcards) {
      if (host.endsWith(suffix)) return { host, region, rule: "wildcard", matched: `*${suffix}` };
    }
    const rule = this.defaultRule;
    if (rule === undefined) return undefined;
    if (typeof rule === "string") return { host, region: rule, rule: "default", matched: "default" };
    const regions = rule.byFirstCharacter;
    return {
      host,
      region: regions[host.charCodeAt(0) % regions.length]!,
      rule: "default",
      matched: "default",
    };
  }

  /** The mapping as it was loaded (normalised), for the `/v1/mappings` endpoint. */
  toJSON(): RegionMapFile {
    const hosts: Record<string, string> = Object.fromEntries(this.exact);
    for (const [suffix, region] of this.wildcards) hosts[`*${suffix}`] = region;
    return this.defaultRule === undefined ? { hosts } : { hosts, default: this.defaultRule };
  }
}

function checkRegion(region: unknown, where: string): asserts region is string {
  if (typeof region !== "string" || !REGION.test(region)) {
    throw new Error(
      `${where}: region must be 1-128 characters of letters, digits, "_", "-" or ".", got ${JSON.stringify(region)}`,
    );
  }
}
