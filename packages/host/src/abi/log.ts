/** Logging hostcalls: `proxy_log` and `proxy_get_log_level`. */
import type { ProxyWasmHost } from "../host.ts";
import { LogLevel, Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function logImports(vm: Vm, host: ProxyWasmHost) {
  return {
    proxy_log(level: number, ptr: number, size: number): number {
      const l = level >>> 0;
      if (l > LogLevel.Critical) return Status.BadArgument;
      const message = vm.read(ptr, size);
      if (message === null) return Status.InvalidMemoryAccess;
      host.emitLog(vm.effective(), l as LogLevel, message);
      return Status.Ok;
    },
    proxy_get_log_level(levelPtr: number): number {
      const level = host.logLevelOf(vm.effective());
      return vm.writeU32(levelPtr, level) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
