/** How the runtime describes a thrown value in the log: name, message and the stack in .ts terms. */
import { TraceMap } from "@jridgewell/trace-mapping";
import { BUNDLE_NAME, mapStackTrace, SOURCE_MAP_GLOBAL } from "./stack-trace.ts";

let trace: TraceMap | null | undefined;

/** The bundle's source map (stored by `pwts build`), decoded on first use. */
function sourceMap(): TraceMap | null {
  if (trace === undefined) {
    const raw = (globalThis as Record<string, unknown>)[SOURCE_MAP_GLOBAL];
    try {
      trace = raw ? new TraceMap(raw as string) : null;
    } catch {
      trace = null;
    }
  }
  return trace;
}

/** "Name: message" plus the stack (mapped to the .ts sources), for any thrown value. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const head = `${error.name}: ${error.message}`;
  if (!error.stack) return head;
  const map = sourceMap();
  const stack = error.stack.replace(/\n$/, "");
  return `${head}\n${map ? mapStackTrace(stack, map, BUNDLE_NAME) : stack}`;
}
