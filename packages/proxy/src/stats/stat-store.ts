/**
 * Envoy-style stats: dotted names (`cluster.backend.upstream_rq_total`), counters, gauges and histograms.
 * Plugin metrics live here too, under the `wasmcustom.` namespace Envoy gives them.
 */

/** Envoy's default histogram buckets (ms). */
export const DEFAULT_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];

/** Envoy's namespace for user-defined (Wasm) metrics; stripped when printed. */
export const CUSTOM_STAT_NAMESPACE = "wasmcustom";

export class Counter {
  value = 0;
  constructor(readonly name: string) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class Gauge {
  value = 0;
  constructor(readonly name: string) {}
  set(v: number): void {
    this.value = v;
  }
  add(by: number): void {
    this.value += by;
  }
}

export class Histogram {
  readonly counts: number[] = DEFAULT_BUCKETS.map(() => 0);
  count = 0;
  sum = 0;
  constructor(readonly name: string) {}
  record(v: number): void {
    this.count++;
    this.sum += v;
    for (let i = 0; i < DEFAULT_BUCKETS.length; i++) if (v <= DEFAULT_BUCKETS[i]!) this.counts[i]!++;
  }
}

export class StatStore {
  readonly counters = new Map<string, Counter>();
  readonly gauges = new Map<string, Gauge>();
  readonly histograms = new Map<string, Histogram>();

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter(name);
      this.counters.set(name, c);
    }
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge(name);
      this.gauges.set(name, g);
    }
    return g;
  }

  histogram(name: string): Histogram {
    let h = this.histograms.get(name);
    if (!h) {
      h = new Histogram(name);
      this.histograms.set(name, h);
    }
    return h;
  }
}
