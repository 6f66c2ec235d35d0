// Memory the host writes results into.
//
// Hostcalls that return data (`uint8_t **return_data`) make the host call our exported `malloc`, copy
// the bytes into that block and write its address into a return slot. `malloc` hands out a pinned
// `ArrayBuffer`, so the SDK adopts it afterwards without a copy; pins are dropped right after the
// hostcall returns, so a host that allocates and then fails does not leak memory.

import { Status } from "./abi/types";

// Out-parameter slots in static memory (not managed by the GC): data pointer, size, extra (cas, flags).
export const RETURN_DATA: usize = memory.data(4);
export const RETURN_SIZE: usize = memory.data(4);
export const RETURN_EXTRA: usize = memory.data(8);

const MAX_PENDING: i32 = 8;
const pending: usize = memory.data(MAX_PENDING * 4);
let pendingCount: i32 = 0;

let status: Status = Status.Ok;

/** Status of the most recent hostcall made by an SDK function that returned `null` or a default. */
export function lastStatus(): Status {
  return status;
}

/** Records the status of a hostcall; returns it for chaining. @internal */
export function setLastStatus(s: u32): Status {
  status = <Status>s;
  return status;
}

/** Allocation entry point for the host (proxy-wasm-cpp-host looks up `malloc` first). */
export function malloc(size: usize): usize {
  const block = __new(size, idof<ArrayBuffer>());
  __pin(block);
  if (pendingCount == MAX_PENDING) {
    // A host that allocates without returning the block: release the oldest pin rather than leak.
    __unpin(load<u32>(pending));
    memory.copy(pending, pending + 4, (MAX_PENDING - 1) * 4);
    pendingCount--;
  }
  store<u32>(pending + (<usize>pendingCount << 2), <u32>block);
  pendingCount++;
  return block;
}

/** Same as `malloc`; the name the ABI spec gives the allocator. */
export function proxy_on_memory_allocate(size: usize): usize {
  return malloc(size);
}

/** Zeroes the return slots before a hostcall, so a host that writes nothing is detected. @internal */
export function clearReturnSlots(): void {
  store<u32>(RETURN_DATA, 0);
  store<u32>(RETURN_SIZE, 0);
  store<u64>(RETURN_EXTRA, 0);
}

/** Drops the pins of every block the host allocated during the last hostcall. @internal */
export function releasePending(): void {
  for (let i = 0; i < pendingCount; i++) __unpin(load<u32>(pending + (<usize>i << 2)));
  pendingCount = 0;
}

/**
 * Takes ownership of the bytes a hostcall returned through RETURN_DATA / RETURN_SIZE.
 * Returns null when the host returned an address outside linear memory. @internal
 */
export function takeReturnedBytes(): ArrayBuffer | null {
  const ptr = <usize>load<u32>(RETURN_DATA);
  const size = <usize>load<u32>(RETURN_SIZE);
  let result: ArrayBuffer | null = null;
  let adopted = false;
  for (let i = 0; i < pendingCount; i++) {
    if (<usize>load<u32>(pending + (<usize>i << 2)) == ptr) {
      adopted = true;
      break;
    }
  }
  if (adopted && changetype<ArrayBuffer>(ptr).byteLength == <i32>size) {
    result = changetype<ArrayBuffer>(ptr);
  } else if (ptr == 0 || size == 0) {
    result = new ArrayBuffer(0);
  } else if (ptr + size >= ptr && ptr + size <= (<usize>memory.size() << 16)) {
    // Not one of our blocks, or a part of one: copy what the host pointed at.
    const copy = new ArrayBuffer(<i32>size);
    memory.copy(changetype<usize>(copy), ptr, size);
    result = copy;
  }
  releasePending();
  return result;
}
