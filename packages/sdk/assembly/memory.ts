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
  // A host that allocates without returning the blocks: release them rather than leak.
  if (pendingCount == MAX_PENDING) releasePending();
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
 * Takes ownership of the bytes a hostcall returned through RETURN_DATA / RETURN_SIZE: the block our
 * `malloc` handed out, without a copy. Returns null when the host returned an address it did not get
 * from `malloc` during this hostcall, or a size larger than that block. @internal
 */
export function takeReturnedBytes(): ArrayBuffer | null {
  const ptr = <usize>load<u32>(RETURN_DATA);
  const size = <i32>load<u32>(RETURN_SIZE);
  let result: ArrayBuffer | null = null;
  if (ptr == 0 || size == 0) {
    result = new ArrayBuffer(0);
  } else {
    for (let i = 0; i < pendingCount; i++) {
      if (<usize>load<u32>(pending + (<usize>i << 2)) != ptr) continue;
      const block = changetype<ArrayBuffer>(ptr);
      if (block.byteLength == size) result = block;
      else if (size < block.byteLength) {
        const part = new ArrayBuffer(size);
        memory.copy(changetype<usize>(part), ptr, <usize>size);
        result = part;
      }
      break;
    }
  }
  releasePending();
  return result;
}
