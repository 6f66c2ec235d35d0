/**
 * Metrics (`proxy_define_metric` & co.). A metric is defined on first use, so module-level
 * `const requests = counter("requests")` works although no host exists while the bundle is pre-evaluated.
 */

import { expectOk, hostcall, MetricType } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";

export class Metric {
  private id: number | undefined;
  constructor(
    readonly name: string,
    readonly type: (typeof MetricType)[keyof typeof MetricType],
  ) {}

  private metricId(): number {
    this.id ??= expectOk<number>(
      `define metric ${this.name}`,
      hostcall(HostOp.DefineMetric, this.type, this.name),
    );
    return this.id;
  }

  /** Adds `by` (may be negative for a gauge). */
  increment(by = 1): void {
    expectOk(`increment ${this.name}`, hostcall(HostOp.IncrementMetric, this.metricId(), by));
  }

  /** Sets a gauge, or records a histogram value. */
  record(value: number): void {
    expectOk(`record ${this.name}`, hostcall(HostOp.RecordMetric, this.metricId(), value));
  }

  /** The current value. */
  get(): number {
    return expectOk<number>(`get ${this.name}`, hostcall(HostOp.GetMetric, this.metricId()));
  }
}

export const counter = (name: string): Metric => new Metric(name, MetricType.Counter);
export const gauge = (name: string): Metric => new Metric(name, MetricType.Gauge);
export const histogram = (name: string): Metric => new Metric(name, MetricType.Histogram);
