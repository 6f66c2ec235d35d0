// Time and timers.

import { proxy_get_current_time_nanoseconds, proxy_set_tick_period_milliseconds } from "./abi/imports";
import { Status } from "./abi/types";
import { RETURN_EXTRA, setLastStatus } from "./memory";

/** Wall-clock time in nanoseconds since the Unix epoch (0 if the host cannot tell). */
export function currentTimeNanoseconds(): u64 {
  store<u64>(RETURN_EXTRA, 0);
  setLastStatus(proxy_get_current_time_nanoseconds(RETURN_EXTRA));
  return load<u64>(RETURN_EXTRA);
}

/**
 * Calls the root context's `onTick()` every `periodMs` milliseconds (0 stops the timer). Call it
 * from `onVmStart` or `onConfigure` of the root context that should tick.
 */
export function setTickPeriod(periodMs: u32): Status {
  return setLastStatus(proxy_set_tick_period_milliseconds(periodMs));
}
