/**
 * The connection manager's stats (`http.<stat_prefix>.*`), resolved once per listener so the per-request
 * path increments objects instead of building names.
 */
import type { Counter, Gauge, Histogram, StatStore } from "../stats/stat-store.ts";

export class HttpListenerStats {
  readonly rqTotal: Counter;
  readonly rqHttp1Total: Counter;
  readonly rqHttp2Total: Counter;
  readonly rqActive: Gauge;
  readonly rqCompleted: Counter;
  readonly cxTotal: Counter;
  readonly cxHttp2Total: Counter;
  readonly cxActive: Gauge;
  readonly rqTime: Histogram;
  private readonly byClass: Counter[];

  constructor(stats: StatStore, statPrefix: string) {
    const p = `http.${statPrefix}`;
    this.rqTotal = stats.counter(`${p}.downstream_rq_total`);
    this.rqHttp1Total = stats.counter(`${p}.downstream_rq_http1_total`);
    this.rqHttp2Total = stats.counter(`${p}.downstream_rq_http2_total`);
    this.rqActive = stats.gauge(`${p}.downstream_rq_active`);
    this.rqCompleted = stats.counter(`${p}.downstream_rq_completed`);
    this.cxTotal = stats.counter(`${p}.downstream_cx_total`);
    this.cxHttp2Total = stats.counter(`${p}.downstream_cx_http2_total`);
    this.cxActive = stats.gauge(`${p}.downstream_cx_active`);
    this.rqTime = stats.histogram(`${p}.downstream_rq_time`);
    this.byClass = [1, 2, 3, 4, 5].map((c) => stats.counter(`${p}.downstream_rq_${c}xx`));
  }

  /** `downstream_rq_<N>xx` for a status code. */
  countStatus(code: number): void {
    const c = this.byClass[Math.floor(code / 100) - 1];
    if (c) c.inc();
  }
}
