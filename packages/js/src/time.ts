/** The host's clock (`proxy_get_current_time_nanoseconds`): Envoy's time source, which tests can drive. */

import { expectOk, hostcall } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";

/** Milliseconds since the epoch by the host's clock. */
export function now(): number {
  return expectOk<number>("current time", hostcall(HostOp.CurrentTimeNanos)) / 1e6;
}
