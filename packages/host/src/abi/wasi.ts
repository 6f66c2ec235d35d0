/**
 * WASI preview1 functions, provided the way proxy-wasm-cpp-host provides them (`exports.cc`): stdout and
 * stderr writes become INFO and ERROR logs, clocks and randomness work, environment variables come from the
 * VM configuration, arguments are empty, files do not exist, `proc_exit` ends the guest call. The same
 * object is registered under `wasi_snapshot_preview1` and `wasi_unstable`.
 */
import { randomFillSync } from "node:crypto";
import type { ProxyWasmHost } from "../host.ts";
import { LogLevel, WasiErrno } from "../types.ts";
import { ProcExit, type Vm } from "../vm.ts";

/** cpp-host `limits.h`: `random_get` serves at most 64 KiB per call. */
const MAX_RANDOM_BYTES = 64 * 1024;
const utf8 = new TextEncoder();

export function wasiImports(vm: Vm, host: ProxyWasmHost) {
  function environ(): Uint8Array[] {
    return vm.environment.map(([k, v]) => utf8.encode(`${k}=${v}\0`));
  }
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, writtenPtr: number): number {
      const level = fd === 1 ? LogLevel.Info : fd === 2 ? LogLevel.Error : -1;
      if (level < 0) return WasiErrno.Badf;
      const count = iovsLen >>> 0;
      if (!vm.inBounds(iovs, count * 8)) return WasiErrno.Fault;
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < count; i++) {
        const base = (iovs >>> 0) + i * 8;
        const ptr = vm.readU32(base)!;
        const len = vm.readU32(base + 4)!;
        if (len === 0) continue;
        const part = vm.read(ptr, len);
        if (part === null) return WasiErrno.Fault;
        parts.push(part.slice());
        total += len;
      }
      if (!vm.inBounds(writtenPtr, 4)) return WasiErrno.Fault;
      if (total > 0) {
        const message = new Uint8Array(total);
        let at = 0;
        for (const p of parts) {
          message.set(p, at);
          at += p.length;
        }
        // cpp-host drops one trailing newline.
        const text = message[total - 1] === 0x0a ? message.subarray(0, total - 1) : message;
        host.emitLog(vm.effective(), level as LogLevel, text);
      }
      vm.writeU32(writtenPtr, total);
      return WasiErrno.Success;
    },
    fd_read(_fd: number, _iovs: number, _len: number, _readPtr: number): number {
      return WasiErrno.Nosys;
    },
    fd_seek(_fd: number, _offset: bigint, _whence: number, _newOffsetPtr: number): number {
      host.emitLog(vm.effective(), LogLevel.Error, utf8.encode("wasi_unstable fd_seek"));
      return WasiErrno.Success;
    },
    fd_close(_fd: number): number {
      host.emitLog(vm.effective(), LogLevel.Error, utf8.encode("wasi_unstable fd_close"));
      return WasiErrno.Success;
    },
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (fd !== 1 && fd !== 2) return WasiErrno.Badf;
      if (!vm.inBounds(statPtr, 24)) return WasiErrno.Fault;
      const stat = new Uint8Array(24);
      stat[8] = 64; // fs_rights_base = FD_WRITE, as cpp-host reports
      vm.write(statPtr, stat);
      return WasiErrno.Success;
    },
    fd_fdstat_set_flags(_fd: number, _flags: number): number {
      return WasiErrno.Nosys;
    },
    fd_prestat_get(_fd: number, _ptr: number): number {
      return WasiErrno.Badf;
    },
    fd_prestat_dir_name(_fd: number, _ptr: number, _len: number): number {
      return WasiErrno.Nosys;
    },
    path_open(): number {
      return WasiErrno.Nosys;
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      const entries = environ();
      const size = entries.reduce((sum, e) => sum + e.length, 0);
      if (!vm.inBounds(countPtr, 4) || !vm.inBounds(sizePtr, 4)) return WasiErrno.Fault;
      vm.writeU32(countPtr, entries.length);
      vm.writeU32(sizePtr, size);
      return WasiErrno.Success;
    },
    environ_get(arrayPtr: number, bufferPtr: number): number {
      let array = arrayPtr >>> 0;
      let buffer = bufferPtr >>> 0;
      for (const entry of environ()) {
        if (!vm.writeU32(array, buffer) || !vm.write(buffer, entry)) return WasiErrno.Fault;
        array += 4;
        buffer += entry.length;
      }
      return WasiErrno.Success;
    },
    args_sizes_get(argcPtr: number, sizePtr: number): number {
      if (!vm.inBounds(argcPtr, 4) || !vm.inBounds(sizePtr, 4)) return WasiErrno.Fault;
      vm.writeU32(argcPtr, 0);
      vm.writeU32(sizePtr, 0);
      return WasiErrno.Success;
    },
    args_get(_argv: number, _buf: number): number {
      return WasiErrno.Success;
    },
    clock_time_get(clockId: number, _precision: bigint, resultPtr: number): number {
      let now: bigint;
      if (clockId === 0) now = host.clock.wallNanoseconds();
      else if (clockId === 1) now = host.clock.monotonicNanoseconds();
      else return WasiErrno.Notsup;
      return vm.writeU64(resultPtr, now) ? WasiErrno.Success : WasiErrno.Fault;
    },
    clock_res_get(clockId: number, resultPtr: number): number {
      if (clockId !== 0 && clockId !== 1) return WasiErrno.Notsup;
      return vm.writeU64(resultPtr, 1n) ? WasiErrno.Success : WasiErrno.Fault;
    },
    random_get(bufferPtr: number, size: number): number {
      const len = size >>> 0;
      if (len > MAX_RANDOM_BYTES) return WasiErrno.Inval;
      const target = vm.read(bufferPtr, len);
      if (target === null) return WasiErrno.Fault;
      randomFillSync(target);
      return WasiErrno.Success;
    },
    proc_exit(code: number): void {
      throw new ProcExit(code >>> 0);
    },
    poll_oneoff(_in: number, _out: number, _subscriptions: number, _eventsPtr: number): number {
      return WasiErrno.Nosys;
    },
    sched_yield(): number {
      return WasiErrno.Success;
    },
  };
}

/** Emscripten's `pthread_equal` and `emscripten_notify_memory_growth`, which cpp-host provides to C++ modules. */
export function libcImports() {
  return {
    pthread_equal(a: number, b: number): number {
      return a === b ? 1 : 0;
    },
    // The VM re-reads the memory buffer after growth on its own, so there is nothing to do (as in cpp-host).
    emscripten_notify_memory_growth(_memoryIndex: number): void {},
  };
}
