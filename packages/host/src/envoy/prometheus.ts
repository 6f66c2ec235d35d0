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

/**
 * A `stats_config.stats_tags` rule: the first capture group is removed from the name, the second (or the first,
 * when there is only one) is the value.
 */
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

/**
 * The token a rule's regex pins the name's first dot-separated token to (`^cluster\.` -> `cluster`), or "" —
 * Envoy's `extractRegexPrefix`. Envoy runs the rules without one first, then those whose token matches, which
 * decides the order of the tags (and so of the labels).
 */
function regexPrefixToken(regex: string): string {
  if (!regex.startsWith("^")) return "";
  for (let i = 1; i < regex.length; i++) {
    if (/[A-Za-z0-9_]/.test(regex[i]!)) continue;
    if (i === 1) return "";
    const rest = regex.slice(i);
    const endsHere = i === regex.length - 1;
    const dotFollows = !endsHere && (rest.startsWith("\\.") || rest.startsWith("(?=\\.)"));
    return dotFollows || (endsHere && rest === "$") ? regex.slice(1, i) : "";
  }
  return "";
}

interface TagExtractor {
  tagName: string;
  /** With the `d` flag, for the first group's exact position. */
  regex: RegExp;
  prefixToken: string;
}

/**
 * Envoy's TagProducerImpl for `stats_tags` regex rules: every rule runs on the original stat name; the first
 * capture group's span is removed from the name and the second group (or the first, when there is one) is
 * the tag value. The spans of all matching rules are removed together at the end, so rules may overlap and
 * none sees another's cut.
 */
export class StatsTagProducer {
  private readonly withoutPrefix: TagExtractor[] = [];
  private readonly byPrefix = new Map<string, TagExtractor[]>();

  constructor(rules: readonly StatsTagRule[]) {
    for (const rule of rules) {
      const extractor = {
        tagName: rule.tagName,
        regex: new RegExp(rule.regex, "d"),
        prefixToken: regexPrefixToken(rule.regex),
      };
      if (extractor.prefixToken === "") {
        this.withoutPrefix.push(extractor);
      } else {
        const list = this.byPrefix.get(extractor.prefixToken) ?? [];
        list.push(extractor);
        this.byPrefix.set(extractor.prefixToken, list);
      }
    }
  }

  /** The tag-extracted name and the tags, in Envoy's order. */
  produce(statName: string): { name: string; tags: Array<[string, string]> } {
    const tags: Array<[string, string]> = [];
    const cuts: Array<[start: number, end: number]> = [];
    const dot = statName.indexOf(".");
    const prefixed = dot === -1 ? undefined : this.byPrefix.get(statName.slice(0, dot));
    for (const extractor of prefixed ? [...this.withoutPrefix, ...prefixed] : this.withoutPrefix) {
      const m = extractor.regex.exec(statName);
      // Envoy needs at least one group; an unmatched group reads as "" and removes nothing (std::sub_match).
      if (!m || m.length < 2) continue;
      tags.push([extractor.tagName, (m.length > 2 ? m[2] : m[1]) ?? ""]);
      const span = m.indices?.[1];
      if (span) cuts.push(span);
    }
    return { name: removeSpans(statName, cuts), tags };
  }
}

/** `text` without the characters any of the `[start, end)` spans cover (spans may overlap). */
function removeSpans(text: string, spans: Array<[number, number]>): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = "";
  let kept = 0;
  for (const [start, end] of spans) {
    if (start > kept) out += text.slice(kept, start);
    kept = Math.max(kept, end);
  }
  return out + text.slice(kept);
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
  const tagProducer = new StatsTagProducer(options.statsTags ?? []);
  const buckets = options.histogramBuckets ?? DEFAULT_HISTOGRAM_BUCKETS;
  const groups: Array<Map<string, Tagged[]>> = [new Map(), new Map(), new Map()];
  for (const metric of store.all()) {
    const { name: extracted, tags } = tagProducer.produce(metric.name);
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
