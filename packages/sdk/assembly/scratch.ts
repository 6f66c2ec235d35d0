// Static memory for the short strings hostcalls take by pointer and length: header names, property
// paths. A hostcall reads them before it returns, so one buffer serves every call; encoding into it
// saves the UTF-8 copy (an allocation, later a collection) that `toBytes` would make on every call.
// The host may call back into `malloc` during a hostcall; nothing on that path writes here.

/** Size of the scratch area, in bytes. */
export const SCRATCH_SIZE: i32 = 512;
/** The scratch area. @internal */
export const SCRATCH: usize = memory.data(SCRATCH_SIZE);

/** A string too long for the scratch, kept alive until the next call: the pointer handed out is its data. */
let spill: ArrayBuffer | null = null;
let lastSize: usize = 0;

/**
 * `text` as UTF-8 at the returned address, valid until the next call; `utf8Size()` is its length. Short
 * strings (up to SCRATCH_SIZE / 3 code units, the worst case of 3 bytes each) go to the scratch area.
 * @internal
 */
export function utf8Pointer(text: string): usize {
  if (text.length * 3 <= SCRATCH_SIZE) {
    lastSize = String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, SCRATCH);
    return SCRATCH;
  }
  const bytes = String.UTF8.encode(text);
  spill = bytes;
  lastSize = <usize>bytes.byteLength;
  return changetype<usize>(bytes);
}

/** Length in bytes of what the last `utf8Pointer` call encoded. @internal */
export function utf8Size(): usize {
  return lastSize;
}
