/** Property hostcalls: `proxy_get_property`, `proxy_set_property` (paths are `\0`-joined segments). */
import { splitPath } from "../envoy/properties.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function propertyImports(vm: Vm) {
  return {
    proxy_get_property(pathPtr: number, pathSize: number, ptrPtr: number, sizePtr: number): number {
      const path = vm.read(pathPtr, pathSize);
      if (path === null) return Status.InvalidMemoryAccess;
      const value = vm.effective().getProperty(splitPath(path));
      if (value === undefined) return Status.NotFound;
      return vm.copyOut(value, ptrPtr, sizePtr);
    },
    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      const path = vm.read(pathPtr, pathSize);
      const value = vm.read(valuePtr, valueSize);
      if (path === null || value === null) return Status.InvalidMemoryAccess;
      return vm.effective().setProperty(splitPath(path), value);
    },
  };
}
