/** Clock and timer hostcalls: `proxy_get_current_time_nanoseconds`, `proxy_set_tick_period_milliseconds`. */
import type { ProxyWasmHost } from "../host.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function timeImports(vm: Vm, host: ProxyWasmHost) {
  return {
    proxy_get_current_time_nanoseconds(resultPtr: number): number {
      return vm.writeU64(resultPtr, host.clock.wallNanoseconds()) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_set_tick_period_milliseconds(periodMs: number): number {
      // Ticks belong to the root context of the calling context (cpp-host's setTimerPeriod).
      const root = vm.effective().rootContext;
      if (!root) return Status.BadArgument;
      root.setTickPeriod(periodMs >>> 0);
      return Status.Ok;
    },
  };
}
