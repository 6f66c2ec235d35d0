/**
 * The contract between a `bench/*.bench.ts` file and the runner (`bench/run.ts`).
 *
 * A bench file default-exports one {@link BenchSuite}. The runner takes every case's samples interleaved
 * (case A, case B, case A, ...) so a case and its baseline see the same machine noise, then reports the
 * median, min and max of each and the ratio of each median to its baseline's median.
 */

/** One measured quantity, e.g. "ns per header read". */
export interface BenchCase {
  /** Unique within its suite; shown in the results table. */
  name: string;
  /** What a sample's number means, e.g. `"ns/op"`. A case and its baseline share the unit. */
  unit: string;
  /** Name of the case in the same suite this one is compared with. Omit it on a baseline itself. */
  baseline?: string;
  /** Goal for the median, in `unit` (lower is better). Reported as met or missed, never asserted. */
  target?: number;
  /** Goal for the ratio of the median to the baseline's median (lower is better); needs `baseline`. */
  ratioTarget?: number;
  /**
   * Whether the runner takes (and discards) a warm-up sample first; default true. Set it false when every
   * sample starts a fresh process anyway, so there is nothing to warm and a long sample is not wasted.
   */
  warmUp?: boolean;
  /** Takes one sample and returns it in `unit`. Keep each sample well above timer resolution (≥ 10 ms). */
  sample(): number | Promise<number>;
}

/** What a bench file default-exports. */
export interface BenchSuite {
  /** Short name used on the command line (`npm run bench -- host`) and as the results key. */
  name: string;
  /** One sentence: what is measured and against what. */
  description: string;
  /** Samples per case after one discarded warm-up sample; at least 5 (default 7). */
  runs?: number;
  /** Runs once before any sample (compile modules, build fixtures). */
  setup?(): void | Promise<void>;
  /** Runs once after the last sample, even when a sample threw. */
  teardown?(): void | Promise<void>;
  cases: BenchCase[];
}

/** Identity helper so a bench file gets type checking on its suite literal. */
export function defineSuite(suite: BenchSuite): BenchSuite {
  return suite;
}

/**
 * Calls `body` `iterations` times and returns the mean nanoseconds per call. The loop itself costs about a
 * nanosecond per iteration, the same for a case and its baseline, so ratios stay honest.
 */
export function nsPerCall(iterations: number, body: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) body();
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** Times one call of `body` that itself performs `operations` operations; returns nanoseconds per operation. */
export function nsPerOperation(operations: number, body: () => void): number {
  const start = process.hrtime.bigint();
  body();
  return Number(process.hrtime.bigint() - start) / operations;
}

function cpuNanoseconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/**
 * Like {@link nsPerCall}, but counts the process's CPU time instead of wall time. On a shared machine a
 * process also waits for a core, which wall time counts and CPU time does not; CPU time does include the
 * process's other threads (GC, JIT), which are part of the cost. Make a sample take ≥ 50 ms of CPU.
 */
export function cpuNsPerCall(iterations: number, body: () => void): number {
  const start = cpuNanoseconds();
  for (let i = 0; i < iterations; i++) body();
  return (cpuNanoseconds() - start) / iterations;
}

/** Like {@link nsPerOperation}, in CPU time (see {@link cpuNsPerCall}). */
export function cpuNsPerOperation(operations: number, body: () => void): number {
  const start = cpuNanoseconds();
  body();
  return (cpuNanoseconds() - start) / operations;
}

/** The figure last recorded for `target` (by a throughput sample that also records others). */
export function latestFigure<T extends string>(figures: Map<T, number>, target: T): number {
  const v = figures.get(target);
  if (v === undefined) throw new Error(`no sample of ${target} yet`);
  return v;
}

/** A suite's targets, their labels, and which target each one's figures are compared with. */
export interface TargetSet<T extends string> {
  targets: readonly T[];
  label: Record<T, string>;
  comparedWith: Record<T, T | undefined>;
}

/** One case per target for one figure (`"<label>: <figure>"`), each with its compared target as baseline. */
export function figureCases<T extends string>(
  set: TargetSet<T>,
  figure: string,
  unit: string,
  sample: (target: T) => number | Promise<number>,
): BenchCase[] {
  return set.targets.map((t) => {
    const base = set.comparedWith[t];
    return {
      name: `${set.label[t]}: ${figure}`,
      unit,
      ...(base ? { baseline: `${set.label[base]}: ${figure}` } : {}),
      sample: () => sample(t),
    };
  });
}
