/**
 * `proxy_call_foreign_function`: calls a function the host registered by name (Envoy's built-ins
 * `set_envoy_filter_state`, `clear_route_cache`, `declare_property`, plus the embedder's own).
 * Unknown name is NOT_FOUND. Results are copied into guest memory (a null result pointer discards them).
 */

import { utf8String } from "../bytes.ts";
import { BytesKeyedCache } from "../bytes-keyed-cache.ts";
import type { ProxyWasmHost } from "../host.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

/**
 * Function names as their bytes arrive from the guest (decoding the name on every call was most of the
 * hostcall's cost, e.g. regional-routing's clear_route_cache per request). A handful per plugin.
 */
const NAMES_CACHED = 64;
const NAME_BYTES_CACHED = 128;

export function ffiImports(vm: Vm, host: ProxyWasmHost) {
  const names = new BytesKeyedCache<string>(NAMES_CACHED, NAME_BYTES_CACHED);
  return {
    proxy_call_foreign_function(
      namePtr: number,
      nameSize: number,
      argsPtr: number,
      argsSize: number,
      resultPtrPtr: number,
      resultSizePtr: number,
    ): number {
      const name = vm.read(namePtr, nameSize);
      const args = vm.read(argsPtr, argsSize);
      if (name === null || args === null) return Status.InvalidMemoryAccess;
      const fn = host.foreignFunctions.get(names.get(name, utf8String));
      if (!fn) return Status.NotFound;
      let outcome: ReturnType<typeof fn>;
      try {
        outcome = fn({ context: vm.effective(), args: args.slice() });
      } catch (err) {
        host.reportEmbedderError(err);
        return Status.InternalFailure;
      }
      const status = typeof outcome === "number" ? outcome : outcome.status;
      const result = typeof outcome === "number" ? undefined : outcome.result;
      if (resultPtrPtr !== 0 || resultSizePtr !== 0) {
        const copied = vm.copyOut(result ?? new Uint8Array(0), resultPtrPtr, resultSizePtr);
        if (copied !== Status.Ok) return copied;
      }
      return status;
    },
  };
}
