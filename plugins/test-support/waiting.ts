/** Waiting for a condition that becomes true asynchronously (e.g. metrics updated from on_log). */
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Calls `probe` until it returns a value other than undefined; throws `describe()` after `timeoutMs`.
 * The deadline only bounds a hang: nothing here asserts how long anything took.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  describe: () => string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(describe());
    await sleep(100);
  }
}
