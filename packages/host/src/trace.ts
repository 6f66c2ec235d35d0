/**
 * Trace mode: every hostcall logged with its arguments and result, like Envoy's trace-level
 * `[vm->host] env.proxy_log(2, 1024, 5)` / `[vm<-host] env.proxy_log return: 0` lines. The wrappers are
 * installed only when trace is on, so the normal import object has no tracing cost.
 */
import type { TraceSink } from "./services.ts";

// biome-ignore lint/suspicious/noExplicitAny: hostcalls take and return numbers / bigints
type Hostcall = (...args: any[]) => any;

/** Wraps every function of `imports` so each call and its result are written to `sink`. */
export function traceImports(
  module: string,
  imports: Record<string, Hostcall>,
  sink: TraceSink,
): Record<string, Hostcall> {
  const traced: Record<string, Hostcall> = {};
  for (const [name, fn] of Object.entries(imports)) {
    const label = `${module}.${name}`;
    traced[name] = (...args: unknown[]) => {
      sink(`[vm->host] ${label}(${args.map(String).join(", ")})`);
      try {
        const result = fn(...args);
        sink(`[vm<-host] ${label} return: ${result === undefined ? "void" : String(result)}`);
        return result;
      } catch (err) {
        sink(`[vm<-host] ${label} threw: ${(err as Error).message}`);
        throw err;
      }
    };
  }
  return traced;
}
