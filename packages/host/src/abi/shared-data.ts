/** Shared data hostcalls: `proxy_get_shared_data`, `proxy_set_shared_data` (keyed by this VM's id). */

import { utf8String } from "../bytes.ts";
import type { ProxyWasmHost } from "../host.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function sharedDataImports(vm: Vm, host: ProxyWasmHost) {
  const store = host.sharedData;
  return {
    proxy_get_shared_data(
      keyPtr: number,
      keySize: number,
      ptrPtr: number,
      sizePtr: number,
      casPtr: number,
    ): number {
      const key = vm.read(keyPtr, keySize);
      if (key === null) return Status.InvalidMemoryAccess;
      const entry = store.get(vm.vmId, utf8String(key));
      if (!entry) return Status.NotFound;
      if (!vm.inBounds(casPtr, 4)) return Status.InvalidMemoryAccess;
      const status = vm.copyOut(entry.value, ptrPtr, sizePtr);
      if (status !== Status.Ok) return status;
      vm.writeU32(casPtr, entry.cas);
      return Status.Ok;
    },
    proxy_set_shared_data(
      keyPtr: number,
      keySize: number,
      valuePtr: number,
      valueSize: number,
      cas: number,
    ): number {
      const key = vm.read(keyPtr, keySize);
      const value = vm.read(valuePtr, valueSize);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      return store.set(vm.vmId, utf8String(key), value, cas >>> 0);
    },
  };
}
