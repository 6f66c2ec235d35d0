// Foreign functions: host extensions called by name with byte arguments.

import { proxy_call_foreign_function } from "./abi/imports";
import { Status } from "./abi/types";
import { toBytes } from "./bytes";
import { RETURN_DATA, RETURN_SIZE, clearReturnSlots, setLastStatus, takeReturnedBytes } from "./memory";

/**
 * Calls the host's foreign function `name` with `args` (bytes: Envoy's take protobuf or raw data).
 * Returns the result bytes (empty when the function returns nothing), or null on failure
 * (`lastStatus()`: NotFound when the host has no such function, BadArgument when it rejects `args`).
 */
export function callForeignFunction(name: string, args: ArrayBuffer): ArrayBuffer | null {
  const nameBytes = toBytes(name);
  clearReturnSlots();
  const s = setLastStatus(
    proxy_call_foreign_function(
      changetype<usize>(nameBytes),
      nameBytes.byteLength,
      changetype<usize>(args),
      args.byteLength,
      RETURN_DATA,
      RETURN_SIZE,
    ),
  );
  const result = takeReturnedBytes();
  return s == Status.Ok ? (result === null ? new ArrayBuffer(0) : result) : null;
}
