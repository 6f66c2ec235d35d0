/**
 * Buffer hostcalls: `proxy_get_buffer_bytes`, `proxy_set_buffer_bytes`, `proxy_get_buffer_status`, and
 * ABI v0.1.0's `proxy_get_configuration`. Status rules follow cpp-host `exports.cc`: unknown type is
 * BAD_ARGUMENT, an unavailable buffer NOT_FOUND, `start + max_size` overflowing 32 bits BAD_ARGUMENT,
 * reads clamped to the buffer.
 */
import { BufferType, MAX_BUFFER_TYPE, Status } from "../types.ts";
import type { Vm } from "../vm.ts";

const EMPTY = new Uint8Array(0);

export function bufferImports(vm: Vm) {
  return {
    proxy_get_buffer_bytes(
      type: number,
      start: number,
      maxSize: number,
      ptrPtr: number,
      sizePtr: number,
    ): number {
      const t = type >>> 0;
      if (t > MAX_BUFFER_TYPE) return Status.BadArgument;
      const buffer = vm.effective().getBuffer(t);
      if (buffer === null) return Status.NotFound;
      const s = start >>> 0;
      const m = maxSize >>> 0;
      if (s + m > 0xffffffff) return Status.BadArgument;
      const bytes = buffer.bytes;
      if (s > bytes.length) return Status.BadArgument;
      const end = Math.min(s + m, bytes.length);
      return vm.copyOutRange(bytes, s, end, ptrPtr, sizePtr);
    },
    proxy_set_buffer_bytes(
      type: number,
      start: number,
      size: number,
      dataPtr: number,
      dataSize: number,
    ): number {
      const t = type >>> 0;
      if (t > MAX_BUFFER_TYPE) return Status.BadArgument;
      const buffer = vm.effective().getBuffer(t);
      if (buffer === null) return Status.NotFound;
      const data = vm.read(dataPtr, dataSize);
      if (data === null) return Status.InvalidMemoryAccess;
      return buffer.splice(start, size, data);
    },
    proxy_get_buffer_status(type: number, sizePtr: number, flagsPtr: number): number {
      const t = type >>> 0;
      if (t > MAX_BUFFER_TYPE) return Status.BadArgument;
      const buffer = vm.effective().getBuffer(t);
      if (buffer === null) return Status.NotFound;
      if (!vm.inBounds(sizePtr, 4) || !vm.inBounds(flagsPtr, 4)) return Status.InvalidMemoryAccess;
      vm.writeU32(sizePtr, buffer.length);
      vm.writeU32(flagsPtr, 0);
      return Status.Ok;
    },
    /** ABI v0.1.0: the plugin configuration (or the VM configuration during vm start). */
    proxy_get_configuration(ptrPtr: number, sizePtr: number): number {
      const buffer =
        vm.callbackBuffers[BufferType.PluginConfiguration] ?? vm.callbackBuffers[BufferType.VmConfiguration];
      return vm.copyOut(buffer?.bytes ?? EMPTY, ptrPtr, sizePtr);
    },
  };
}
