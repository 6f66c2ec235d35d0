/** CPU time another process has used, for figures that stay steady while other load shares the machine. */
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of process `pid` so far, in µs, summed over its threads (main, GC, libuv pool). Read from
 * /proc/PID/task/TID/schedstat (Linux, nanoseconds) rather than /proc/PID/stat, whose 10 ms clock ticks
 * are too coarse for a sample of a few hundred milliseconds. A thread that ended meanwhile drops out of the
 * sum, which a long-running server's threads do not.
 */
export function processCpuMicros(pid: number): number {
  let nanoseconds = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nanoseconds / 1000;
}
