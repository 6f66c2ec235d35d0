/**
 * `proxy_call_foreign_function`: calls a function the host registered by name (Envoy's built-ins
 * `set_envoy_filter_state`, `clear_route_cache`, `declare_property`, plus the embedder's own).
 * Unknown name is NOT_FOUND. Results are copied into guest memory (a null result pointer discards them).
 */

import { EMPTY_BYTES, utf8String } from "../bytes.ts";
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
      const mem = vm.bytes();
      const np = namePtr >>> 0;
      const nl = nameSize >>> 0;
      const ap = argsPtr >>> 0;
      const al = argsSize >>> 0;
      if (np + nl > mem.length || ap + al > mem.length) return Status.InvalidMemoryAccess;
      const fn = host.foreignFunctions.get(names.getAt(mem, np, nl, utf8String));
      if (!fn) return Status.NotFound;
      let outcome: ReturnType<typeof fn>;
      try {
        // A copy of the arguments (the function may keep them); none is made for a call without any
        // (regional-routing's clear_route_cache on every request).
        outcome = fn({ context: vm.effective(), args: al === 0 ? EMPTY_BYTES : mem.slice(ap, ap + al) });
      } catch (err) {
        host.reportEmbedderError(err);
        return Status.InternalFailure;
      }
      const status = typeof outcome === "number" ? outcome : outcome.status;
      const result = typeof outcome === "number" ? undefined : outcome.result;
      if (resultPtrPtr !== 0 || resultSizePtr !== 0) {
        const copied = vm.copyOut(result ?? EMPTY_BYTES, resultPtrPtr, resultSizePtr);
        if (copied !== Status.Ok) return copied;
      }
      return status;
    },
  };
}
