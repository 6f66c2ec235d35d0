/** Context lifecycle hostcalls: `proxy_done`, `proxy_set_effective_context`. */
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function lifecycleImports(vm: Vm) {
  return {
    /** Only a root context whose shutdown `proxy_on_done` returned false is pending (cpp-host's pending_done). */
    proxy_done(): number {
      return vm.effective().done();
    },
    proxy_set_effective_context(contextId: number): number {
      const id = contextId >>> 0;
      const ctx = vm.contexts.get(id);
      if (!ctx || ctx.deleted) return Status.BadArgument;
      vm.effectiveId = id;
      return Status.Ok;
    },
  };
}
