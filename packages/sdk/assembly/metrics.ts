// Metrics: counters, gauges and histograms, defined once and updated by id.
//
// Tags travel inside the metric name as `_<tag>=<value>` segments, the convention Envoy's
// `stats_config.stats_tags` (and Istio's `extraStatTags` via the same regexes) extract:
//   name "requests_total_method=GET_status=200", regexes "(_method=([^_.]*))" and "(_status=([^_.]*))"
// become `envoy_wasmcustom_requests_total{method="GET",status="200"}` in Envoy's Prometheus output.

import { proxy_define_metric, proxy_get_metric, proxy_increment_metric, proxy_record_metric } from "./abi/imports";
import { MetricType, Status } from "./abi/types";
import { toBytes } from "./bytes";
import { RETURN_EXTRA, RETURN_SIZE, setLastStatus } from "./memory";

/** Builds a tagged metric name: `base` then `_<tag>=<value>` per tag; `_` and `.` in values become `-`. */
export function taggedMetricName(base: string, tagNames: Array<string>, tagValues: Array<string>): string {
  let name = base;
  const count = min(tagNames.length, tagValues.length);
  for (let i = 0; i < count; i++) {
    name += "_" + unchecked(tagNames[i]) + "=" + sanitizeTagValue(unchecked(tagValues[i]));
  }
  return name;
}

function sanitizeTagValue(value: string): string {
  // Envoy splits stat names on '.', and our regexes stop at '_': keep both out of values.
  return value.replaceAll("_", "-").replaceAll(".", "-");
}

function defineMetric(metricType: MetricType, name: string): u32 {
  const bytes = toBytes(name);
  store<u32>(RETURN_SIZE, 0);
  const s = setLastStatus(proxy_define_metric(metricType, changetype<usize>(bytes), bytes.byteLength, RETURN_SIZE));
  return s == Status.Ok ? load<u32>(RETURN_SIZE) : u32.MAX_VALUE;
}

/** Base of the three metric kinds: the id the host assigned and the status of the definition. */
export class Metric {
  /** Host id, or u32.MAX_VALUE when the definition failed (`defineStatus` tells why). */
  readonly id: u32;
  readonly defineStatus: Status;

  constructor(
    readonly metricType: MetricType,
    readonly name: string,
  ) {
    this.id = defineMetric(metricType, name);
    this.defineStatus = this.id == u32.MAX_VALUE ? Status.BadArgument : Status.Ok;
  }

  /** Current value (0 when unavailable). */
  value(): u64 {
    store<u64>(RETURN_EXTRA, 0);
    setLastStatus(proxy_get_metric(this.id, RETURN_EXTRA));
    return load<u64>(RETURN_EXTRA);
  }
}

/** A monotonically increasing count. */
export class Counter extends Metric {
  constructor(name: string) {
    super(MetricType.Counter, name);
  }

  /** Adds `delta` (default 1). */
  increment(delta: i64 = 1): Status {
    return setLastStatus(proxy_increment_metric(this.id, delta));
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric {
  constructor(name: string) {
    super(MetricType.Gauge, name);
  }

  /** Sets the value. */
  set(value: u64): Status {
    return setLastStatus(proxy_record_metric(this.id, value));
  }

  /** Adds `delta` (may be negative). */
  add(delta: i64): Status {
    return setLastStatus(proxy_increment_metric(this.id, delta));
  }
}

/** A distribution of recorded values. */
export class Histogram extends Metric {
  constructor(name: string) {
    super(MetricType.Histogram, name);
  }

  /** Records one value. */
  record(value: u64): Status {
    return setLastStatus(proxy_record_metric(this.id, value));
  }
}

/**
 * A counter with tags: one host metric per combination of tag values, defined on first use and
 * cached. `new TaggedCounter("requests_total", ["status"]).increment(["200"])`.
 */
export class TaggedCounter {
  private byValues: Map<string, Counter> = new Map<string, Counter>();

  constructor(
    readonly base: string,
    readonly tagNames: Array<string>,
  ) {}

  /** The counter for these tag values (defined on first use). */
  with(tagValues: Array<string>): Counter {
    const name = taggedMetricName(this.base, this.tagNames, tagValues);
    if (this.byValues.has(name)) return this.byValues.get(name);
    const counter = new Counter(name);
    this.byValues.set(name, counter);
    return counter;
  }

  /** Adds `delta` to the counter for these tag values. */
  increment(tagValues: Array<string>, delta: i64 = 1): Status {
    return this.with(tagValues).increment(delta);
  }
}

/** A histogram with tags, like `TaggedCounter`. */
export class TaggedHistogram {
  private byValues: Map<string, Histogram> = new Map<string, Histogram>();

  constructor(
    readonly base: string,
    readonly tagNames: Array<string>,
  ) {}

  /** The histogram for these tag values (defined on first use). */
  with(tagValues: Array<string>): Histogram {
    const name = taggedMetricName(this.base, this.tagNames, tagValues);
    if (this.byValues.has(name)) return this.byValues.get(name);
    const histogram = new Histogram(name);
    this.byValues.set(name, histogram);
    return histogram;
  }

  /** Records `value` in the histogram for these tag values. */
  record(tagValues: Array<string>, value: u64): Status {
    return this.with(tagValues).record(value);
  }
}
