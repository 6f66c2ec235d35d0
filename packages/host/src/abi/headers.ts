/**
 * Header map hostcalls (`proxy_*_header_map_*`). Names are matched case-insensitively and stored
 * lower-cased, as Envoy does; a missing header is NOT_FOUND (OK with an empty value for ABI v0.1.0
 * modules, as Envoy keeps for them); a map not available in the current phase is BAD_ARGUMENT (in
 * `proxy_on_log` Envoy's missing maps read as empty, see HttpStream).
 */
import { parsePairs } from "../pairs.ts";
import { MAX_MAP_TYPE, Status } from "../types.ts";
import type { Vm } from "../vm.ts";

const EMPTY = new Uint8Array(0);

export function headerImports(vm: Vm) {
  const v010 = vm.module.abiVersion === "0.1.0";

  /**
   * `proxy_add_header_map_value` (one more value after any existing ones) or, with `replace`,
   * `proxy_replace_header_map_value` (the only value).
   */
  function writeValue(replace: boolean) {
    return (type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number => {
      const t = type >>> 0;
      if (t > MAX_MAP_TYPE) return Status.BadArgument;
      const kp = keyPtr >>> 0;
      const kl = keySize >>> 0;
      const vp = valuePtr >>> 0;
      const vl = valueSize >>> 0;
      const mem = vm.bytes();
      if (kp + kl > mem.length || vp + vl > mem.length) return Status.InvalidMemoryAccess;
      const map = vm.effective().getMapForWrite(t);
      if (map === null) return Status.BadArgument;
      // Read in place: the map copies what it keeps.
      if (replace) map.replaceFrom(mem, kp, kl, vp, vl);
      else map.addFrom(mem, kp, kl, vp, vl);
      return Status.Ok;
    };
  }

  return {
    proxy_get_header_map_value(
      type: number,
      keyPtr: number,
      keySize: number,
      ptrPtr: number,
      sizePtr: number,
    ): number {
      const t = type >>> 0;
      if (t > MAX_MAP_TYPE) return Status.BadArgument;
      // The hot path: compare the key in place instead of taking a view of it.
      const kp = keyPtr >>> 0;
      const kl = keySize >>> 0;
      const mem = vm.bytes();
      if (kp + kl > mem.length) return Status.InvalidMemoryAccess;
      const map = vm.effective().getMap(t);
      if (map === null) return Status.BadArgument;
      const value = map.getAt(mem, kp, kl);
      if (value === undefined) return v010 ? vm.copyOut(EMPTY, ptrPtr, sizePtr) : Status.NotFound;
      return vm.copyOut(value, ptrPtr, sizePtr);
    },
    proxy_add_header_map_value: writeValue(false),
    proxy_replace_header_map_value: writeValue(true),
    proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
      const t = type >>> 0;
      if (t > MAX_MAP_TYPE) return Status.BadArgument;
      // Compared in place, like a lookup: no view or copy of the name is made.
      const kp = keyPtr >>> 0;
      const kl = keySize >>> 0;
      const mem = vm.bytes();
      if (kp + kl > mem.length) return Status.InvalidMemoryAccess;
      const map = vm.effective().getMapForWrite(t);
      if (map === null) return Status.BadArgument;
      map.removeFrom(mem, kp, kl);
      return Status.Ok;
    },
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      const t = type >>> 0;
      if (t > MAX_MAP_TYPE) return Status.BadArgument;
      const map = vm.effective().getMap(t);
      if (map === null) return Status.BadArgument;
      if (!vm.inBounds(ptrPtr, 4) || !vm.inBounds(sizePtr, 4)) return Status.InvalidMemoryAccess;
      const size = map.serializedSize();
      const ptr = vm.allocate(size);
      if (ptr === 0) return Status.InvalidMemoryAccess;
      map.serializeInto(vm.bytes(), ptr);
      vm.writeU32(ptrPtr, ptr);
      vm.writeU32(sizePtr, size);
      return Status.Ok;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      const t = type >>> 0;
      if (t > MAX_MAP_TYPE) return Status.BadArgument;
      const data = vm.read(ptr, size);
      if (data === null) return Status.InvalidMemoryAccess;
      const map = vm.effective().getMapForWrite(t);
      if (map === null) return Status.BadArgument;
      const pairs = parsePairs(data);
      if (pairs === null) return Status.BadArgument;
      map.clear();
      for (const [name, value] of pairs) map.add(name, value);
      return Status.Ok;
    },
    proxy_get_header_map_size(type: number, sizePtr: number): number {
      const t = type >>> 0;
      if (t > MAX_MAP_TYPE) return Status.BadArgument;
      const map = vm.effective().getMap(t);
      if (map === null) return Status.BadArgument;
      return vm.writeU32(sizePtr, map.serializedSize()) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
