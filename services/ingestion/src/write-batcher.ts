import type { ApiEvent } from "./api-event.ts";
import type { EventStore } from "./event-store.ts";

/** Options of {@link WriteBatcher}. */
export interface WriteBatcherOptions {
  /** Most events waiting or being written at once; beyond it {@link WriteBatcher.submit} refuses. */
  maxPendingEvents: number;
  /** Most events in one store write. */
  maxBatchEvents: number;
}

interface Submission {
  events: readonly ApiEvent[];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit in front of a store: requests that arrive while a write is running are merged into the next
 * write, so batches grow with load and no timer adds latency when idle. Each submitter learns when its own
 * events are durable. Memory is bounded by `maxPendingEvents`: past it, submit refuses instead of queueing.
 */
export class WriteBatcher {
  private queue: Submission[] = [];
  private queuedEvents = 0;
  private writingEvents = 0;
  private writing = false;
  /** The running drain loop, so {@link idle} can wait for it. */
  private draining: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly options: WriteBatcherOptions,
  ) {}

  /** Events accepted but not yet durable. */
  get pendingEvents(): number {
    return this.queuedEvents + this.writingEvents;
  }

  /**
   * Queues events for writing. Returns undefined when the queue is full (the caller answers 503), else a
   * promise that resolves once the events are durable and rejects if the store write failed.
   */
  submit(events: readonly ApiEvent[]): Promise<void> | undefined {
    if (this.pendingEvents + events.length > this.options.maxPendingEvents) return undefined;
    const done = new Promise<void>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
    });
    this.queuedEvents += events.length;
    if (!this.writing) {
      this.writing = true;
      // Let requests parsed in the same turn of the event loop join the first batch.
      this.draining = new Promise((resolve) => setImmediate(resolve)).then(() => this.drain());
    }
    return done;
  }

  /** Resolves when everything submitted so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.writing) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch: Submission[] = [];
      let size = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0]!;
        if (batch.length > 0 && size + next.events.length > this.options.maxBatchEvents) break;
        batch.push(this.queue.shift()!);
        size += next.events.length;
      }
      this.queuedEvents -= size;
      this.writingEvents = size;
      try {
        await this.store.append(batch.length === 1 ? batch[0]!.events : batch.flatMap((s) => s.events));
        for (const s of batch) s.resolve();
      } catch (error) {
        for (const s of batch) s.reject(error);
      }
      this.writingEvents = 0;
    }
    this.writing = false;
  }
}
