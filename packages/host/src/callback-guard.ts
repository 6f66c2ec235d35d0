/**
 * The callback time limit. Envoy has no such limit (its watchdog aborts the whole process when a worker is
 * stuck); a dev server must outlive the looping plugin it exists to find. JavaScript cannot interrupt a
 * synchronous Wasm call from the same thread, so the module is instrumented at load time: binaryen's
 * `log-execution` pass puts a call at every loop header, function entry and return; the calls at the end of
 * each function body and at the entry of functions that call nothing are taken out again (see
 * `dropFallthroughSteps`), and the rest are made to count down a budget and, every {@link GUARD_BUDGET}
 * steps, ask the host whether the callback's deadline has passed. The host then throws, which unwinds the guest; the VM is failed and the plugin's failure policy
 * answers. The instrumented bytes are internal to the host: the user's `.wasm` is not changed.
 *
 * Chosen by measurement (bench/dev.bench.ts): per-callback watchdogs (`vm` timeouts) start a thread per
 * call, and a VM in a worker thread would turn every hostcall into a cross-thread round trip.
 */
import { PwtsError } from "@proxy-wasm-ts/errors";

/** The import module of the host's deadline check (a name no toolchain emits). */
export const GUARD_IMPORT_MODULE = "pwts_callback_guard";
const GUARD_IMPORT_NAME = "check";
/** Guest steps (loop iterations, calls) between two clock reads: a few tens of µs of tight loop. */
export const GUARD_BUDGET = 65536;

// The pass's fixed names (binaryen src/passes/LogExecution.cpp): the import it adds is `env.log_execution`.
const LOGGER = "log_execution";
const BUDGET_GLOBAL = "pwts_callback_budget";
const CHECK_FUNCTION = "pwts_callback_check";

/** A callback ran past the time limit and was stopped. The message names the callback and the limit. */
export class CallbackTimeoutError extends PwtsError {
  constructor(
    readonly callback: string,
    readonly limitMs: number,
  ) {
    super(
      "PWTS_ERR_CALLBACK_TIMEOUT",
      `${callback} ran longer than the callback time limit (${limitMs} ms) and was stopped`,
    );
  }
}

type Binaryen = typeof import("binaryen").default;
let binaryenLoading: Promise<Binaryen> | undefined;

/** binaryen is large (~0.5 s to load): loaded on first use only, so hosts without the limit never pay it. */
function loadBinaryen(): Promise<Binaryen> {
  binaryenLoading ??= import("binaryen").then((m) => m.default);
  return binaryenLoading;
}

/**
 * Returns `bytes` with the deadline check added (a new import `pwts_callback_guard.check: [] -> []`).
 * Throws an Error with binaryen's reason when the module cannot be read.
 */
export async function addCallbackGuard(bytes: Uint8Array): Promise<Uint8Array> {
  const binaryen = await loadBinaryen();
  const m = binaryen.readBinary(bytes);
  try {
    // Features V8 (Node 20+) runs, so binaryen reads what the original uses and writes nothing newer
    // (`All` would write, for one, compact import sections V8 does not read).
    const f = binaryen.Features;
    m.setFeatures(
      f.MVP |
        f.Atomics |
        f.MutableGlobals |
        f.NontrappingFPToInt |
        f.SIMD128 |
        f.BulkMemory |
        f.BulkMemoryOpt |
        f.SignExt |
        f.ExceptionHandling |
        f.TailCall |
        f.ReferenceTypes |
        f.Multivalue,
    );
    if (m.getFunction(LOGGER) !== 0) throw new Error(`the module already has a function named ${LOGGER}`);
    const w = expressionWrappers(binaryen);
    const leaves = w === undefined ? undefined : leafFunctions(binaryen, w, m);
    m.runPasses(["log-execution"]);
    if (w !== undefined && leaves !== undefined) dropFallthroughSteps(binaryen, w, m, leaves);
    // The pass made `log_execution` an import; it becomes an internal function, so each step costs a
    // decrement and a branch, and only every GUARD_BUDGET steps a call out to the host.
    m.removeFunction(LOGGER);
    binaryen.setPassArgument("no-inline", "*");
    m.runPasses(["no-inline"]);
    binaryen.setPassArgument("no-inline", null);
    m.addGlobal(BUDGET_GLOBAL, binaryen.i32, true, m.i32.const(GUARD_BUDGET));
    m.addFunctionImport(CHECK_FUNCTION, GUARD_IMPORT_MODULE, GUARD_IMPORT_NAME, binaryen.none, binaryen.none);
    const budget = () => m.global.get(BUDGET_GLOBAL, binaryen.i32);
    m.addFunction(
      LOGGER,
      binaryen.i32,
      binaryen.none,
      [],
      m.block(null, [
        m.global.set(BUDGET_GLOBAL, m.i32.sub(budget(), m.i32.const(1))),
        m.if(
          m.i32.le_s(budget(), m.i32.const(0)),
          m.block(null, [
            m.global.set(BUDGET_GLOBAL, m.i32.const(GUARD_BUDGET)),
            m.call(CHECK_FUNCTION, [], binaryen.none),
          ]),
        ),
      ]),
    );
    // Inlined, a step costs a global decrement and a branch instead of a call (the call made the header
    // plugin's whole stream 1.9x slower). Only the counter is inlined: the plugin's own functions are marked
    // no-inline first, so their code is left as the toolchain made it.
    inlineCounterOnly(binaryen, m);
    if (!m.validate()) throw new Error("the instrumented module does not validate");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/**
 * binaryen.js's expression and function wrappers and effect analysis used below: present at run time, though
 * its typings leave them out (or give `getSideEffects` a features argument where it takes the module).
 */
interface ExpressionWrappers {
  Block: {
    getNumChildren(expr: number): number;
    getChildAt(expr: number, index: number): number;
    setChildAt(expr: number, index: number, child: number): void;
  };
  Call: { getTarget(expr: number): string };
  Function: { setBody(func: number, body: number): void };
  getSideEffects(expr: number, module: unknown): number;
  SideEffects: { Calls: number };
}

/** The wrappers, or undefined when this binaryen.js lacks one (every step then stays: slower, still safe). */
function expressionWrappers(binaryen: Binaryen): ExpressionWrappers | undefined {
  const w = binaryen as unknown as Partial<ExpressionWrappers>;
  const ok =
    typeof w.Block?.setChildAt === "function" &&
    typeof w.Call?.getTarget === "function" &&
    typeof w.Function?.setBody === "function" &&
    typeof w.getSideEffects === "function" &&
    typeof w.SideEffects?.Calls === "number";
  return ok ? (w as ExpressionWrappers) : undefined;
}

/** True when `expr` is the pass's `(block (call $log_execution ..) expr')` around an instrumented expression. */
function isStep(binaryen: Binaryen, { Block, Call }: ExpressionWrappers, expr: number): boolean {
  if (binaryen.getExpressionId(expr) !== binaryen.BlockId || Block.getNumChildren(expr) !== 2) return false;
  const first = Block.getChildAt(expr, 0);
  return binaryen.getExpressionId(first) === binaryen.CallId && Call.getTarget(first) === LOGGER;
}

/**
 * The defined functions that call nothing (no call of any kind, binaryen's effect analysis says): a call of
 * one runs its body once, plus its own loops, which keep their steps. Runaway recursion needs a cycle of
 * calls, which only functions that call can make, so a leaf's entry need not count: in AssemblyScript
 * output the leaves (string length and char reads, allocator helpers) are most of the calls made.
 */
function leafFunctions(
  binaryen: Binaryen,
  w: ExpressionWrappers,
  m: import("binaryen").default.Module,
): Set<string> {
  const leaves = new Set<string>();
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.module || !info.body) continue;
    if ((w.getSideEffects(info.body, m) & w.SideEffects.Calls) === 0) leaves.add(info.name);
  }
  return leaves;
}

/**
 * Takes out the step the pass puts on the last expression of each function body (the function's fall-
 * through return), keeping the one at its entry, and the entry step of the functions in `leaves`. A
 * runaway callback is either a loop, whose header still counts each iteration, or calls (recursion), whose
 * entries still count each call of a function that can call on; counting a call's return as well only
 * doubled the cost of every call. Explicit `return`s keep their steps: finding them needs a walk of every
 * expression, and the fall-through end is the return nearly every call takes.
 */
function dropFallthroughSteps(
  binaryen: Binaryen,
  w: ExpressionWrappers,
  m: import("binaryen").default.Module,
  leaves: ReadonlySet<string>,
): void {
  const { Block } = w;
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    // The pass made the body `(block (call $log_execution entry) original)`; imports have no body.
    if (info.module || !info.body || !isStep(binaryen, w, info.body)) continue;
    const original = Block.getChildAt(info.body, 1);
    if (leaves.has(info.name)) w.Function.setBody(m.getFunctionByIndex(i), original);
    if (binaryen.getExpressionId(original) !== binaryen.BlockId) continue;
    const n = Block.getNumChildren(original);
    if (n === 0) continue;
    const last = Block.getChildAt(original, n - 1);
    // The wrapper's type is its last child's, so putting that child back leaves every type as it was.
    if (isStep(binaryen, w, last)) Block.setChildAt(original, n - 1, Block.getChildAt(last, 1));
  }
}

/** Inlines the counter function (the only function not marked no-inline) at every step. */
function inlineCounterOnly(binaryen: Binaryen, m: import("binaryen").default.Module): void {
  const previous = binaryen.getAlwaysInlineMaxSize();
  binaryen.setAlwaysInlineMaxSize(64);
  try {
    m.runPasses(["inlining"]);
  } finally {
    binaryen.setAlwaysInlineMaxSize(previous);
  }
}

/** The import object part that answers the guard's calls: `check` throws once `expired()` is true. */
export function guardImports(check: () => void): Record<string, Record<string, () => void>> {
  return { [GUARD_IMPORT_MODULE]: { [GUARD_IMPORT_NAME]: check } };
}
