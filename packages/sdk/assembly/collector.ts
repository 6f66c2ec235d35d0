// Garbage collection at safe points. With the `minimal` runtime (the one `pwts build` uses, for
// size and speed) nothing is collected unless asked, and asking is only safe when no managed object
// lives on the wasm stack: at the end of a top-level callback. Collecting every few stream
// deletions keeps memory flat at a small, bounded cost per request.

const COLLECT_EVERY: i32 = 16;
let sinceCollect: i32 = 0;

/** Called by the exports at the end of `proxy_on_delete` and `proxy_on_tick`. @internal */
export function collectGarbage(): void {
  // ASC_RUNTIME: 0 stub, 1 minimal, 2 incremental (which collects on its own).
  if (ASC_RUNTIME == 1) {
    if (++sinceCollect >= COLLECT_EVERY) {
      sinceCollect = 0;
      __collect();
    }
  }
}
