/**
 * Shared queue hostcalls. `register` creates or reopens (vm_id, name) for this VM and makes the caller's
 * root context the one notified; `resolve` finds a queue of any VM id (an empty one: the caller's own);
 * enqueue/dequeue by token.
 */

import { utf8String } from "../bytes.ts";
import type { ProxyWasmHost } from "../host.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function queueImports(vm: Vm, host: ProxyWasmHost) {
  const queues = host.queues;
  return {
    proxy_register_shared_queue(namePtr: number, nameSize: number, tokenPtr: number): number {
      const name = vm.read(namePtr, nameSize);
      if (name === null) return Status.InvalidMemoryAccess;
      if (!vm.inBounds(tokenPtr, 4)) return Status.InvalidMemoryAccess;
      const queue = queues.register(vm.vmId, utf8String(name), vm.effective().rootContext);
      vm.writeU32(tokenPtr, queue.token);
      return Status.Ok;
    },
    proxy_resolve_shared_queue(
      vmIdPtr: number,
      vmIdSize: number,
      namePtr: number,
      nameSize: number,
      tokenPtr: number,
    ): number {
      const vmId = vm.read(vmIdPtr, vmIdSize);
      const name = vm.read(namePtr, nameSize);
      if (vmId === null || name === null) return Status.InvalidMemoryAccess;
      // An empty vm_id means the caller's own VM (cpp-host context.cc ContextBase::lookupSharedQueue:
      // `vm_id.empty() ? wasm_->vm_id() : vm_id`).
      const queue = queues.resolve(vmIdSize === 0 ? vm.vmId : utf8String(vmId), utf8String(name));
      if (!queue) return Status.NotFound;
      return vm.writeU32(tokenPtr, queue.token) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_enqueue_shared_queue(token: number, valuePtr: number, valueSize: number): number {
      const value = vm.read(valuePtr, valueSize);
      if (value === null) return Status.InvalidMemoryAccess;
      return queues.enqueue(token >>> 0, value);
    },
    proxy_dequeue_shared_queue(token: number, ptrPtr: number, sizePtr: number): number {
      const queue = queues.byId(token >>> 0);
      if (!queue) return Status.NotFound;
      if (queue.items.length === 0) return Status.Empty;
      if (!vm.inBounds(ptrPtr, 4) || !vm.inBounds(sizePtr, 4)) return Status.InvalidMemoryAccess;
      const { value } = queues.dequeue(token >>> 0);
      return vm.copyOut(value!, ptrPtr, sizePtr);
    },
  };
}
