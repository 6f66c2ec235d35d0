/**
 * Plugin metrics, shared by every VM of a host the way Envoy's stats store is: the same name and type is
 * the same stat. Names are stored as Envoy stores them, `wasmcustom.` + the plugin's name.
 */
import { MetricType } from "./types.ts";

/** Envoy's namespace for user-defined Wasm stats (`stats_handler.h` `CustomStatNamespace`). */
export const CUSTOM_STAT_NAMESPACE = "wasmcustom";

/**
 * A histogram with Envoy's circllhist resolution: each value falls in a log-linear bin of two significant
 * digits ([20, 21), [100, 110), ...). Envoy's Prometheus output counts whole bins and sums bin midpoints,
 * so the host keeps the same bins to print the same numbers.
 */
export class Histogram {
  /** Bin left edge -> count. Key `0` is the zero bin. */
  readonly bins = new Map<number, number>();
  count = 0;
  /** Exact sum of recorded values (Envoy's printed `_sum` uses bin midpoints instead, see `approxSum`). */
  exactSum = 0n;
  /**
   * Every recorded value, in order, when the store keeps them (the test harness does); otherwise empty.
   * A proxy must not keep them: a histogram recorded per request would grow without bound.
   */
  readonly values: bigint[] = [];

  constructor(private readonly keepValues = false) {}

  record(value: bigint): void {
    if (this.keepValues) this.values.push(value);
    this.count++;
    this.exactSum += value;
    const left = Histogram.binLeft(value);
    this.bins.set(left, (this.bins.get(left) ?? 0) + 1);
  }

  /** Left edge of the circllhist bin of an integer value. */
  static binLeft(value: bigint): number {
    if (value <= 0n) return 0;
    const digits = value.toString();
    if (digits.length === 1) return Number(digits);
    return Number(digits.slice(0, 2)) * 10 ** (digits.length - 2);
  }

  /** Width of the bin starting at `left`. */
  static binWidth(left: number): number {
    if (left === 0) return 0;
    if (left < 10) return 0.1;
    return 10 ** (String(Math.round(left)).length - 2);
  }

  /** Values in bins entirely at or below `le` (Envoy's cumulative bucket count). */
  countBelow(le: number): number {
    let total = 0;
    for (const [left, count] of this.bins) if (left + Histogram.binWidth(left) <= le) total += count;
    return total;
  }

  /** Sum of bin midpoints, as Envoy prints `_sum`. */
  approxSum(): number {
    let sum = 0;
    for (const [left, count] of this.bins) sum += (left + Histogram.binWidth(left) / 2) * count;
    return sum;
  }
}

/** One stat. */
export class Metric {
  value = 0n;
  readonly histogram: Histogram | null;
  constructor(
    /** Full Envoy name, `wasmcustom.<plugin name>`. */
    readonly name: string,
    readonly type: MetricType,
    keepHistogramValues = false,
  ) {
    this.histogram = type === MetricType.Histogram ? new Histogram(keepHistogramValues) : null;
  }

  /** The name the plugin gave (without the namespace). */
  get pluginName(): string {
    return this.name.slice(CUSTOM_STAT_NAMESPACE.length + 1);
  }
}

/** All stats of a host. */
export class MetricsStore {
  private readonly byKey = new Map<string, Metric>();

  /** `keepHistogramValues`: remember every recorded value (for tests that read them back). */
  constructor(private readonly keepHistogramValues = false) {}

  /** The stat for (type, plugin-given name), created on first use. */
  define(type: MetricType, name: string): Metric {
    const full = `${CUSTOM_STAT_NAMESPACE}.${name}`;
    const key = `${type}:${full}`;
    let metric = this.byKey.get(key);
    if (!metric) {
      metric = new Metric(full, type, this.keepHistogramValues);
      this.byKey.set(key, metric);
    }
    return metric;
  }

  /** Finds a stat by the plugin-given name (or full name) and optional type. */
  find(name: string, type?: MetricType): Metric | undefined {
    const full = name.startsWith(`${CUSTOM_STAT_NAMESPACE}.`) ? name : `${CUSTOM_STAT_NAMESPACE}.${name}`;
    for (const t of type === undefined ? [0, 1, 2] : [type]) {
      const m = this.byKey.get(`${t}:${full}`);
      if (m) return m;
    }
    return undefined;
  }

  all(): Metric[] {
    return [...this.byKey.values()];
  }
}
