/** Context lifecycle hostcalls: `proxy_done`, `proxy_set_effective_context`. */
import { HttpStream } from "../http-stream.ts";
import { TcpStream } from "../tcp-stream.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function lifecycleImports(vm: Vm) {
  return {
    proxy_done(): number {
      const ctx = vm.effective();
      if (ctx instanceof HttpStream || ctx instanceof TcpStream) return ctx.pluginDone();
      return Status.NotFound;
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
