/** Property hostcalls: `proxy_get_property`, `proxy_set_property` (paths are `\0`-joined segments). */
import { splitPath, splitPathAt } from "../envoy/properties.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function propertyImports(vm: Vm) {
  return {
    proxy_get_property(pathPtr: number, pathSize: number, ptrPtr: number, sizePtr: number): number {
      const memory = vm.bytes();
      const ptr = pathPtr >>> 0;
      const len = pathSize >>> 0;
      if (ptr + len > memory.length) return Status.InvalidMemoryAccess;
      // The path is looked up where it lies in guest memory (no view of it made per read).
      const value = vm.effective().getProperty(splitPathAt(memory, ptr, len));
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
