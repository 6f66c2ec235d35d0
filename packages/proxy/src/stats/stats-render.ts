/**
 * The admin `/stats` text and `/stats/prometheus` exposition, in Envoy's formats
 * (source/server/admin/stats_render.cc and prometheus_stats_formatter.cc).
 */
import { CUSTOM_STAT_NAMESPACE, DEFAULT_BUCKETS, type StatStore } from "./stat-store.ts";
import type { TagProducer } from "./tag-extraction.ts";

const CUSTOM_PREFIX = `${CUSTOM_STAT_NAMESPACE}.`;

function displayName(name: string): string {
  return name.startsWith(CUSTOM_PREFIX) ? name.slice(CUSTOM_PREFIX.length) : name;
}

function formatNumber(v: number): string {
  // Envoy prints with {:.32g}: integers without exponent or trailing zeros.
  if (Number.isInteger(v)) return v.toString();
  return v.toPrecision(17).replace(/\.?0+$/, "");
}

/** `/stats`: `name: value` lines sorted by name; histograms as quantile summaries are reduced to counts. */
export function renderStatsText(store: StatStore, extraLines: string[] = []): string {
  const lines: string[] = [...extraLines];
  for (const c of store.counters.values()) lines.push(`${displayName(c.name)}: ${c.value}`);
  for (const g of store.gauges.values()) lines.push(`${displayName(g.name)}: ${g.value}`);
  for (const h of store.histograms.values()) {
    lines.push(
      h.count === 0
        ? `${displayName(h.name)}: No recorded values`
        : `${displayName(h.name)}: count=${h.count} sum=${formatNumber(h.sum)}`,
    );
  }
  lines.sort();
  return lines.length ? `${lines.join("\n")}\n` : "";
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

/** Prometheus metric name for a tag-extracted stat name; undefined when Envoy drops it. */
export function prometheusName(extracted: string): string | undefined {
  if (extracted.startsWith(CUSTOM_PREFIX)) {
    const rest = sanitize(extracted.slice(CUSTOM_PREFIX.length));
    // A custom metric whose name starts with a digit is not a valid Prometheus name: Envoy skips it.
    return /^[0-9]/.test(rest) ? undefined : rest;
  }
  return `envoy_${sanitize(extracted)}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(tags: Array<[string, string]>): string {
  return tags.map(([k, v]) => `${sanitize(k)}="${escapeLabel(v)}"`).join(",");
}

interface Group<T> {
  name: string;
  entries: Array<{ tags: Array<[string, string]>; stat: T }>;
}

function group<T extends { name: string }>(stats: Iterable<T>, tagger: TagProducer): Group<T>[] {
  const groups = new Map<string, Group<T>>();
  for (const stat of stats) {
    const tagged = tagger.produce(stat.name);
    const name = prometheusName(tagged.name);
    if (name === undefined) continue;
    let g = groups.get(name);
    if (!g) {
      g = { name, entries: [] };
      groups.set(name, g);
    }
    g.entries.push({ tags: tagged.tags, stat });
  }
  const sorted = [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const g of sorted) g.entries.sort((a, b) => (labelText(a.tags) < labelText(b.tags) ? -1 : 1));
  return sorted;
}

const TYPE_ORDER = ["counter", "gauge", "histogram"];

/**
 * Merges Prometheus texts made of `# TYPE` blocks (ours and the host's plugin metrics) into Envoy's order:
 * every counter, then every gauge, then every histogram, each kind sorted by metric name.
 */
export function mergePrometheus(...texts: string[]): string {
  const blocks: Array<{ type: number; name: string; text: string }> = [];
  for (const text of texts) {
    for (const block of text.split("\n\n")) {
      const m = /^# TYPE (\S+) (\S+)\n/.exec(block);
      if (!m) continue;
      blocks.push({ type: TYPE_ORDER.indexOf(m[2]!), name: m[1]!, text: block });
    }
  }
  blocks.sort((a, b) => a.type - b.type || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return blocks.map((b) => `${b.text}\n\n`).join("");
}

/** `/stats/prometheus`: counters, then gauges, then histograms; `# TYPE` lines, no `# HELP`. */
export function renderPrometheus(store: StatStore, tagger: TagProducer): string {
  let out = "";
  for (const g of group(store.counters.values(), tagger)) {
    out += `# TYPE ${g.name} counter\n`;
    for (const e of g.entries) out += `${g.name}{${labelText(e.tags)}} ${e.stat.value}\n`;
    out += "\n";
  }
  for (const g of group(store.gauges.values(), tagger)) {
    out += `# TYPE ${g.name} gauge\n`;
    for (const e of g.entries) out += `${g.name}{${labelText(e.tags)}} ${e.stat.value}\n`;
    out += "\n";
  }
  for (const g of group(store.histograms.values(), tagger)) {
    out += `# TYPE ${g.name} histogram\n`;
    for (const e of g.entries) {
      const labels = labelText(e.tags);
      const sep = labels ? "," : "";
      DEFAULT_BUCKETS.forEach((b, i) => {
        out += `${g.name}_bucket{${labels}${sep}le="${formatNumber(b)}"} ${e.stat.counts[i]}\n`;
      });
      out += `${g.name}_bucket{${labels}${sep}le="+Inf"} ${e.stat.count}\n`;
      out += `${g.name}_sum{${labels}} ${formatNumber(e.stat.sum)}\n`;
      out += `${g.name}_count{${labels}} ${e.stat.count}\n`;
    }
    out += "\n";
  }
  return out;
}
