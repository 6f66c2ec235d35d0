/** A clock and timer queue that move only when a test says so. */
import type { Clock, TimerHandle, Timers } from "../services.ts";

interface PendingTimer {
  id: number;
  at: number;
  fire: () => void;
}

/** 2026-01-01T00:00:00Z: the default wall time a ManualClock starts at. */
export const MANUAL_CLOCK_EPOCH_MS = Date.UTC(2026, 0, 1);

export class ManualClock implements Clock, Timers {
  /** Milliseconds since the clock was created. */
  private elapsedMs = 0;
  private readonly startWallMs: number;
  private readonly timers: PendingTimer[] = [];
  private nextId = 1;

  constructor(startWallMs = MANUAL_CLOCK_EPOCH_MS) {
    this.startWallMs = startWallMs;
  }

  wallNanoseconds(): bigint {
    return BigInt(this.startWallMs + this.elapsedMs) * 1_000_000n;
  }

  monotonicNanoseconds(): bigint {
    return BigInt(this.elapsedMs) * 1_000_000n;
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const timer = { id: this.nextId++, at: this.elapsedMs + Math.max(0, delayMs), fire };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: TimerHandle): void {
    const i = this.timers.findIndex((t) => t.id === handle);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in time order (timers they set fire too, if due). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(ms): ms must be a non-negative number, got ${ms}`);
    const target = this.elapsedMs + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.timers)
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.elapsedMs = next.at;
      next.fire();
    }
    this.elapsedMs = target;
  }
}
