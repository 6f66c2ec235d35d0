/**
 * Plugin metrics in Prometheus text exactly as Envoy's `/stats/prometheus` prints them
 * (`prometheus_stats_formatter.cc`, `prometheus_stats_render.cc`): the `wasmcustom.` namespace stripped, no
 * `envoy_` prefix, `[^a-zA-Z0-9_]` -> `_`, names starting with a digit dropped, `# TYPE` lines only,
 * `name{} value` when untagged, counters then gauges then histograms, each group followed by a blank line,
 * histograms with Envoy's 19 default buckets, `+Inf`, `_sum` and `_count`.
 */
import { CUSTOM_STAT_NAMESPACE, type Metric, type MetricsStore } from "../metrics.ts";
import { MetricType } from "../types.ts";

/** Envoy's default histogram bucket bounds. */
export const DEFAULT_HISTOGRAM_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];

/** A `stats_config.stats_tags` rule: the first capture group is removed from the name, the second is the value. */
export interface StatsTagRule {
  tagName: string;
  regex: string;
}

export interface PrometheusOptions {
  statsTags?: readonly StatsTagRule[];
  histogramBuckets?: readonly number[];
}

/** C's `%.32g` for the numbers Envoy prints (bucket bounds, sums). */
export function formatG32(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x);
  let s = x.toPrecision(32);
  if (s.includes("e")) return s;
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

interface Tagged {
  name: string;
  tags: string;
  metric: Metric;
}

/** Applies tag rules to a stat name; returns the tag-extracted name and the rendered label list. */
function extractTags(
  full: string,
  rules: readonly StatsTagRule[],
): { name: string; tags: Array<[string, string]> } {
  let name = full;
  const tags: Array<[string, string]> = [];
  for (const rule of rules) {
    const m = new RegExp(rule.regex).exec(name);
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    tags.push([rule.tagName, m[2]]);
    name =
      name.slice(0, m.index + m[0].indexOf(m[1])) + name.slice(m.index + m[0].indexOf(m[1]) + m[1].length);
  }
  return { name, tags };
}

/** The Prometheus metric name for an Envoy stat name, or null when Envoy drops it. */
export function prometheusName(statName: string): string | null {
  const prefix = `${CUSTOM_STAT_NAMESPACE}.`;
  const custom = statName.startsWith(prefix);
  const rest = (custom ? statName.slice(prefix.length) : statName).replace(/[^a-zA-Z0-9_]/g, "_");
  if (!custom) return `envoy_${rest}`;
  if (rest.length === 0 || /^[0-9]/.test(rest)) return null;
  return rest;
}

/** Renders every metric of the store as Envoy's `/stats/prometheus` would. */
export function renderPrometheus(store: MetricsStore, options: PrometheusOptions = {}): string {
  const rules = options.statsTags ?? [];
  const buckets = options.histogramBuckets ?? DEFAULT_HISTOGRAM_BUCKETS;
  const groups: Array<Map<string, Tagged[]>> = [new Map(), new Map(), new Map()];
  for (const metric of store.all()) {
    const { name: extracted, tags } = extractTags(metric.name, rules);
    const name = prometheusName(extracted);
    if (name === null) continue;
    const rendered = tags.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",");
    const group = groups[metric.type]!;
    const list = group.get(name) ?? [];
    list.push({ name, tags: rendered, metric });
    group.set(name, list);
  }
  const typeNames = ["counter", "gauge", "histogram"];
  let out = "";
  for (const type of [MetricType.Counter, MetricType.Gauge, MetricType.Histogram]) {
    const group = groups[type]!;
    for (const name of [...group.keys()].sort()) {
      const entries = group.get(name)!.sort((a, b) => (a.tags < b.tags ? -1 : a.tags > b.tags ? 1 : 0));
      out += `# TYPE ${name} ${typeNames[type]}\n`;
      for (const e of entries) {
        if (type !== MetricType.Histogram) {
          out += `${name}{${e.tags}} ${e.metric.value}\n`;
          continue;
        }
        const h = e.metric.histogram!;
        const sep = e.tags ? `${e.tags},` : "";
        for (const le of buckets) out += `${name}_bucket{${sep}le="${formatG32(le)}"} ${h.countBelow(le)}\n`;
        out += `${name}_bucket{${sep}le="+Inf"} ${h.count}\n`;
        out += `${name}_sum{${e.tags}} ${formatG32(h.approxSum())}\n`;
        out += `${name}_count{${e.tags}} ${h.count}\n`;
      }
      out += "\n";
    }
  }
  return out;
}
