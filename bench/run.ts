/**
 * Benchmark runner behind `npm run bench`. Runs every `bench/*.bench.ts` (or the suites named on the command
 * line: `npm run bench -- host proxy`), then writes `bench/results.json` and `bench/results.md`. Suites not run
 * this time keep their previous results, each stamped with its own machine, Node version, date and command.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { BenchCase, BenchSuite } from "./benchmark.ts";

const benchDir = import.meta.dirname;
const jsonPath = join(benchDir, "results.json");
const markdownPath = join(benchDir, "results.md");
const MIN_RUNS = 5;
const DEFAULT_RUNS = 7;

/** One case's figures as written to results.json. */
export interface CaseResult {
  name: string;
  unit: string;
  runs: number;
  median: number;
  min: number;
  max: number;
  baseline?: string;
  /** median / baseline median, when the case has a baseline. */
  ratio?: number;
  target?: number;
  /** Goal for `ratio`; `meetsTarget` then tells whether the ratio met it. */
  ratioTarget?: number;
  meetsTarget?: boolean;
}

/** One suite's run as written to results.json. */
export interface SuiteResult {
  description: string;
  command: string;
  date: string;
  machine: string;
  node: string;
  /** The machine's 1-minute load average when the suite started: how far absolute figures are inflated. */
  loadAverage?: number;
  /** Wall time of the whole suite (setup, samples, teardown). */
  seconds?: number;
  cases: CaseResult[];
}

/** The latest run of every suite at once (`npm run bench` with no names), which the report opens with. */
export interface FullRun {
  command: string;
  date: string;
  machine: string;
  node: string;
  seconds: number;
  /**
   * CPU time of the runner and the child processes it waited for (proxies, servers, probes), in seconds:
   * with the machine to itself, the run needs at least this divided by the core count.
   */
  cpuSeconds?: number;
  /** 1-minute load averages at the start and the end of the run. */
  loadAverage?: [number, number];
  /** Suites that threw; their previous figures (if any) are kept. */
  failed: string[];
}

interface ResultsFile {
  fullRun?: FullRun;
  suites: Record<string, SuiteResult>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? "unknown CPU";
  const memoryGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${cpus.length} × ${model}, ${memoryGiB} GiB, ${os.type()} ${os.release()} ${os.arch()}`;
}

/** User + system CPU of this process and its reaped children, in seconds (Linux /proc; 100 ticks/s). */
function treeCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

function suiteFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of readdirSync(benchDir).sort()) {
    if (file.endsWith(".bench.ts")) files.set(basename(file, ".bench.ts"), join(benchDir, file));
  }
  return files;
}

/** Accepts `host`, `host.bench.ts` or `bench/host.bench.ts`. */
function suiteName(arg: string): string {
  return basename(arg).replace(/\.bench\.ts$/, "");
}

function validate(suite: BenchSuite, file: string): void {
  if (!suite || typeof suite !== "object" || !Array.isArray(suite.cases)) {
    throw new Error(`${file}: expected a default export made with defineSuite({ name, description, cases })`);
  }
  const names = new Set(suite.cases.map((c) => c.name));
  if (names.size !== suite.cases.length) throw new Error(`${file}: case names must be unique`);
  for (const c of suite.cases) {
    if (c.baseline !== undefined && !names.has(c.baseline)) {
      throw new Error(
        `${file}: case "${c.name}" names baseline "${c.baseline}", which is not a case of the suite`,
      );
    }
  }
}

async function runSuite(suite: BenchSuite, runsOverride: number | undefined): Promise<CaseResult[]> {
  const runs = Math.max(MIN_RUNS, runsOverride ?? suite.runs ?? DEFAULT_RUNS);
  const samples = new Map<BenchCase, number[]>(suite.cases.map((c) => [c, []]));
  await suite.setup?.();
  try {
    // Warm-up: lets the JIT settle; discarded. A case whose every sample starts a fresh process opts out.
    for (const c of suite.cases) if (c.warmUp !== false) await c.sample();
    for (let run = 0; run < runs; run++) {
      // Interleaved, so a case and its baseline share the machine's noise of the moment.
      for (const c of suite.cases) {
        const value = await c.sample();
        if (!Number.isFinite(value))
          throw new Error(`case "${c.name}" returned a non-finite sample: ${value}`);
        samples.get(c)!.push(value);
        process.stderr.write(".");
      }
    }
    process.stderr.write("\n");
  } finally {
    await suite.teardown?.();
  }
  const medians = new Map(suite.cases.map((c) => [c.name, median(samples.get(c)!)]));
  return suite.cases.map((c) => {
    const values = samples.get(c)!;
    const result: CaseResult = {
      name: c.name,
      unit: c.unit,
      runs: values.length,
      median: medians.get(c.name)!,
      min: Math.min(...values),
      max: Math.max(...values),
    };
    if (c.baseline !== undefined) {
      result.baseline = c.baseline;
      result.ratio = result.median / medians.get(c.baseline)!;
    }
    if (c.target !== undefined) {
      result.target = c.target;
      result.meetsTarget = result.median <= c.target;
    }
    if (c.ratioTarget !== undefined && result.ratio !== undefined) {
      result.ratioTarget = c.ratioTarget;
      result.meetsTarget = result.ratio <= c.ratioTarget && (result.meetsTarget ?? true);
    }
    return result;
  });
}

function targetText(c: CaseResult): string {
  const goals = [
    c.target === undefined ? undefined : `≤ ${formatNumber(c.target)}`,
    c.ratioTarget === undefined ? undefined : `ratio ≤ ${c.ratioTarget}×`,
  ].filter((g) => g !== undefined);
  return goals.length === 0 ? "" : `${goals.join(", ")} ${c.meetsTarget ? "(met)" : "(MISSED)"}`;
}

function readResults(): ResultsFile {
  try {
    const parsed = JSON.parse(readFileSync(jsonPath, "utf8")) as ResultsFile;
    return parsed && typeof parsed.suites === "object" ? parsed : { suites: {} };
  } catch {
    return { suites: {} };
  }
}

function formatNumber(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** A Markdown table with padded columns (the layout biome's formatter gives it). */
function markdownTable(header: string[], align: Array<"left" | "right">, rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const pad = (cells: string[]) =>
    `| ${cells.map((c, i) => (align[i] === "right" ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = widths.map((w, i) => (align[i] === "right" ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  return [pad(header), `| ${rule.join(" | ")} |`, ...rows.map(pad)];
}

function formatLoad(suite: SuiteResult): string {
  return suite.loadAverage === undefined ? "" : suite.loadAverage.toFixed(1);
}

export function renderMarkdown(results: ResultsFile): string {
  const suites = Object.entries(results.suites).sort(([a], [b]) => a.localeCompare(b));
  const lines = ["# Benchmark results", ""];
  const full = results.fullRun;
  if (full) {
    lines.push(
      `- machine: ${full.machine}`,
      `- node: ${full.node}`,
      `- date: ${full.date} (latest full run)`,
      `- command: \`${full.command}\` (every suite; ${(full.seconds / 60).toFixed(1)} min wall time` +
        (full.cpuSeconds === undefined
          ? ")"
          : `, ${(full.cpuSeconds / 60).toFixed(1)} min of CPU time in it and its child processes)`),
    );
    if (full.loadAverage) {
      const [start, end] = full.loadAverage.map((l) => l.toFixed(1));
      lines.push(
        `- load average (1 min): ${start} at the start, ${end} at the end; ${os.cpus().length} cores (a higher load means other work shared the machine)`,
      );
    }
    if (full.failed.length)
      lines.push(`- failed in that run (older figures kept): ${full.failed.join(", ")}`);
    lines.push("");
  }
  lines.push(
    "Written by `npm run bench` (bench/run.ts). Each figure is the median of the runs shown, after one",
    "discarded warm-up run (none where each sample is a fresh process); ratio = median / baseline median, both",
    "measured interleaved in the same run. Absolute figures move with the machine's load (the load average at",
    "each suite's start is below; above the core count, processes wait for a core and wall times stretch);",
    "ratios, measured side by side, stay comparable. CPU-time figures are the least disturbed by load.",
    "",
    "The command that reproduces each suite's figures:",
    "",
  );
  lines.push(
    ...markdownTable(
      ["suite", "command", "date", "load avg", "wall s"],
      ["left", "left", "left", "right", "right"],
      suites.map(([name, suite]) => [
        `[${name}](#${name})`,
        `\`${suite.command}\``,
        suite.date,
        formatLoad(suite),
        suite.seconds === undefined ? "" : suite.seconds.toFixed(0),
      ]),
    ),
    "",
  );
  for (const [name, suite] of suites) {
    lines.push(`## ${name}`, "", suite.description, "");
    lines.push(`- command: \`${suite.command}\``);
    lines.push(`- date: ${suite.date}`, `- machine: ${suite.machine}`, `- node: ${suite.node}`);
    if (suite.loadAverage !== undefined) lines.push(`- load average at start: ${formatLoad(suite)}`);
    lines.push("");
    const rows = suite.cases.map((c) => [
      c.name,
      formatNumber(c.median),
      formatNumber(c.min),
      formatNumber(c.max),
      c.unit,
      String(c.runs),
      c.baseline ?? "",
      c.ratio === undefined ? "" : `${c.ratio.toFixed(2)}×`,
      targetText(c),
    ]);
    const header = ["case", "median", "min", "max", "unit", "runs", "baseline", "ratio", "target"];
    const align: Array<"left" | "right"> = [
      "left",
      "right",
      "right",
      "right",
      "left",
      "right",
      "left",
      "right",
      "left",
    ];
    lines.push(...markdownTable(header, align, rows), "");
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: "string" } },
  });
  const runsOverride = values.runs === undefined ? undefined : Number(values.runs);
  if (runsOverride !== undefined && !(Number.isInteger(runsOverride) && runsOverride >= MIN_RUNS)) {
    process.stderr.write(`bench: --runs expects an integer ≥ ${MIN_RUNS}, got "${values.runs}"\n`);
    return 2;
  }
  const available = suiteFiles();
  const wanted = positionals.length ? positionals.map(suiteName) : [...available.keys()];
  const unknown = wanted.filter((name) => !available.has(name));
  if (unknown.length) {
    const names = [...available.keys()].join(", ") || "none";
    process.stderr.write(`bench: no bench/${unknown[0]}.bench.ts; available: ${names}\n`);
    return 2;
  }
  const results = readResults();
  const runStarted = performance.now();
  const runLoadAverage = os.loadavg()[0]!;
  const failed: string[] = [];
  for (const name of wanted) {
    const file = available.get(name)!;
    const started = performance.now();
    const loadAverage = os.loadavg()[0]!;
    let cases: CaseResult[];
    let description: string;
    try {
      const suite = (await import(pathToFileURL(file).href)).default as BenchSuite;
      validate(suite, file);
      description = suite.description;
      process.stderr.write(`bench ${name}: ${suite.description}\n`);
      cases = await runSuite(suite, runsOverride);
    } catch (err) {
      // One broken suite must not cost the figures of the others: report it, go on, fail at the end.
      process.stderr.write(
        `\nbench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`,
      );
      failed.push(name);
      continue;
    }
    results.suites[name] = {
      description,
      command: `npm run bench -- ${name}${runsOverride ? ` --runs ${runsOverride}` : ""}`,
      date: new Date().toISOString(),
      machine: describeMachine(),
      node: process.version,
      loadAverage,
      seconds: (performance.now() - started) / 1000,
      cases,
    };
    for (const c of cases) {
      const ratio = c.ratio === undefined ? "" : `  ${c.ratio.toFixed(2)}× ${c.baseline}`;
      console.log(
        `${name} | ${c.name}: median ${formatNumber(c.median)} ${c.unit} ` +
          `(min ${formatNumber(c.min)}, max ${formatNumber(c.max)}, ${c.runs} runs)${ratio}`,
      );
    }
    // Written after each suite so a later failure keeps the figures already measured.
    writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(markdownPath, renderMarkdown(results));
  }
  if (positionals.length === 0) {
    results.fullRun = {
      command: `npm run bench${runsOverride ? ` -- --runs ${runsOverride}` : ""}`,
      date: new Date().toISOString(),
      machine: describeMachine(),
      node: process.version,
      seconds: (performance.now() - runStarted) / 1000,
      cpuSeconds: treeCpuSeconds(),
      loadAverage: [runLoadAverage, os.loadavg()[0]!],
      failed,
    };
    writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(markdownPath, renderMarkdown(results));
  }
  process.stderr.write(`bench: ${((performance.now() - runStarted) / 1000).toFixed(0)} s\n`);
  return failed.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main();
}
