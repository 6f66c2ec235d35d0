// Shared data (a key-value store shared by every VM of the same vm_id, with compare-and-swap) and
// shared queues (one VM enqueues, the VM that registered the queue is told it is ready).

import {
  proxy_dequeue_shared_queue,
  proxy_enqueue_shared_queue,
  proxy_get_shared_data,
  proxy_register_shared_queue,
  proxy_resolve_shared_queue,
  proxy_set_shared_data,
} from "./abi/imports";
import { Status } from "./abi/types";
import { toBytes } from "./bytes";
import {
  RETURN_DATA,
  RETURN_EXTRA,
  RETURN_SIZE,
  clearReturnSlots,
  setLastStatus,
  takeReturnedBytes,
} from "./memory";

/** A shared-data value and its CAS version (pass `cas` back to `setSharedData` to update safely). */
export class SharedValue {
  constructor(
    readonly value: ArrayBuffer,
    readonly cas: u32,
  ) {}
}

/** Reads `key`; null when absent (`lastStatus()` is NotFound). */
export function getSharedData(key: string): SharedValue | null {
  const name = toBytes(key);
  clearReturnSlots();
  const s = setLastStatus(
    proxy_get_shared_data(changetype<usize>(name), name.byteLength, RETURN_DATA, RETURN_SIZE, RETURN_EXTRA),
  );
  const bytes = takeReturnedBytes();
  if (s != Status.Ok || bytes === null) return null;
  return new SharedValue(bytes, load<u32>(RETURN_EXTRA));
}

/**
 * Writes `key`. With `cas` 0 the write is unconditional; otherwise it succeeds only if the value
 * is still at version `cas`, else returns `Status.CasMismatch` (read again and retry).
 */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32 = 0): Status {
  const name = toBytes(key);
  return setLastStatus(
    proxy_set_shared_data(changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength, cas),
  );
}

/** Registers a queue owned by this VM; returns its id, or u32.MAX_VALUE on failure. */
export function registerSharedQueue(name: string): u32 {
  const bytes = toBytes(name);
  store<u32>(RETURN_SIZE, 0);
  const s = setLastStatus(proxy_register_shared_queue(changetype<usize>(bytes), bytes.byteLength, RETURN_SIZE));
  return s == Status.Ok ? load<u32>(RETURN_SIZE) : u32.MAX_VALUE;
}

/** Finds a queue registered by VM `vmId`; returns its id, or u32.MAX_VALUE when absent. */
export function resolveSharedQueue(vmId: string, name: string): u32 {
  const vm = toBytes(vmId);
  const bytes = toBytes(name);
  store<u32>(RETURN_SIZE, 0);
  const s = setLastStatus(
    proxy_resolve_shared_queue(changetype<usize>(vm), vm.byteLength, changetype<usize>(bytes), bytes.byteLength, RETURN_SIZE),
  );
  return s == Status.Ok ? load<u32>(RETURN_SIZE) : u32.MAX_VALUE;
}

/** Appends an item to queue `queueId`. */
export function enqueueSharedQueue(queueId: u32, value: ArrayBuffer): Status {
  return setLastStatus(proxy_enqueue_shared_queue(queueId, changetype<usize>(value), value.byteLength));
}

/** Takes the oldest item of queue `queueId`; null when empty (`lastStatus()` is Empty) or absent. */
export function dequeueSharedQueue(queueId: u32): ArrayBuffer | null {
  clearReturnSlots();
  const s = setLastStatus(proxy_dequeue_shared_queue(queueId, RETURN_DATA, RETURN_SIZE));
  const bytes = takeReturnedBytes();
  return s == Status.Ok ? bytes : null;
}
