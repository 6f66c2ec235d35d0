/**
 * One direction (request or response) of an HTTP filter chain: passes headers and body through the
 * filters in order, holds them where a filter stops, buffers body while held (up to the buffer limit, as
 * Envoy's watermark buffers do), and resumes from the filter that stopped.
 */

import type { HeaderList } from "./header-list.ts";
import type { BodyBuffer, FilterStatus } from "./http-filter.ts";

export interface FilterStage {
  headers(headers: HeaderList, endStream: boolean): FilterStatus;
  /** Shown new bytes; on "continue", `body.data` is what goes on (it may include bytes buffered earlier). */
  data(body: BodyBuffer, endStream: boolean): FilterStatus;
  /** After a data stop and resume: the bytes the stage releases. */
  drain?(): Buffer;
  /** Trailers (the end of the direction); "stop" holds them until the stage resumes. */
  trailers?(trailers: HeaderList): FilterStatus;
}

export interface IterationSink {
  headers(headers: HeaderList, endStream: boolean): void;
  data(chunk: Buffer, endStream: boolean): void;
  /** Trailers end the direction (sinks that take none end it with an empty end-of-stream chunk). */
  trailers?(trailers: HeaderList): void;
}

const EMPTY = Buffer.alloc(0);

export class FilterIteration {
  private headersValue: HeaderList | undefined;
  /** Index of the filter holding the headers, or -1. */
  private headersStoppedAt = -1;
  private headersDone = false;
  /** Body received while the headers are held. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Index of the filter buffering body (stopped on data), or -1, and how much it holds. */
  private dataStoppedAt = -1;
  private dataBufferedBytes = 0;
  private ended = false;
  private endDelivered = false;
  /** Trailers that arrived (they end the direction instead of an end_stream on data). */
  private trailersValue: HeaderList | undefined;
  /** Index of the stage holding the trailers, or -1, and body that passed that stage before it stopped. */
  private trailersStoppedAt = -1;
  private trailersCarry: Buffer | undefined;
  /** Set when the stream is over; every entry point becomes a no-op. */
  aborted = false;

  constructor(
    private readonly stages: FilterStage[],
    private readonly sink: IterationSink,
    private readonly bufferLimit: number,
    private readonly overflowHandler: { overflow(): void },
  ) {}

  get headersPassed(): boolean {
    return this.headersDone;
  }

  headers(headers: HeaderList, endStream: boolean): void {
    this.headersValue = headers;
    this.ended = endStream;
    this.runHeaders(0);
  }

  private runHeaders(from: number): void {
    const headers = this.headersValue!;
    for (let i = from; i < this.stages.length; i++) {
      const status = this.stages[i]!.headers(headers, this.ended && this.heldBytes === 0);
      if (this.aborted) return;
      if (status === "stop") {
        this.headersStoppedAt = i;
        return;
      }
    }
    this.headersStoppedAt = -1;
    this.headersDone = true;
    const noBody = this.ended && this.heldBytes === 0;
    if (noBody) this.endDelivered = true;
    this.sink.headers(headers, noBody);
  }

  data(chunk: Buffer, endStream: boolean): void {
    if (this.aborted || this.endDelivered) return;
    if (endStream) this.ended = true;
    if (!this.headersDone) {
      this.hold(chunk);
      return;
    }
    this.runData(chunk, endStream, 0);
  }

  private hold(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > this.bufferLimit) this.overflow();
  }

  private overflow(): void {
    this.aborted = true;
    this.overflowHandler.overflow();
  }

  private runData(chunk: Buffer, endStream: boolean, from: number): void {
    let current = chunk;
    for (let i = from; i < this.stages.length; i++) {
      // A stage stopped on data keeps (buffers) what it was shown; it is shown only new bytes.
      const body: BodyBuffer = { data: current };
      const status = this.stages[i]!.data(body, endStream);
      if (this.aborted) return;
      if (status === "stop") {
        if (this.dataStoppedAt !== i) this.dataBufferedBytes = 0;
        this.dataStoppedAt = i;
        this.dataBufferedBytes += current.length;
        if (this.dataBufferedBytes > this.bufferLimit) this.overflow();
        return;
      }
      if (i === this.dataStoppedAt) {
        this.dataStoppedAt = -1;
        this.dataBufferedBytes = 0;
      }
      current = body.data;
    }
    if (endStream) this.endDelivered = true;
    this.sink.data(current, endStream);
  }

  /**
   * Trailers end the direction. filter_manager.cc decodeTrailers / encodeTrailers: every filter from the
   * first sees them, including one that stopped on data (StopIterationAndBuffer); when that one continues,
   * what it buffered goes on to the next filters (end_stream false), then the trailers. While the headers
   * are held, they wait with the body.
   */
  trailers(trailers: HeaderList): void {
    if (this.aborted || this.endDelivered || this.trailersValue) return;
    this.trailersValue = trailers;
    if (!this.headersDone) return;
    this.runTrailers(0, undefined);
  }

  private runTrailers(from: number, carried: Buffer | undefined): void {
    const trailers = this.trailersValue!;
    let carry = carried;
    for (let i = from; i < this.stages.length; i++) {
      const stage = this.stages[i]!;
      if (carry !== undefined && carry.length > 0) {
        const body: BodyBuffer = { data: carry };
        const status = stage.data(body, false);
        if (this.aborted) return;
        if (status === "stop") {
          this.dataStoppedAt = i;
          carry = undefined;
        } else carry = body.data;
      }
      const status = stage.trailers ? stage.trailers(trailers) : "continue";
      if (this.aborted) return;
      if (status === "stop") {
        this.trailersStoppedAt = i;
        this.trailersCarry = carry;
        return;
      }
      if (i === this.dataStoppedAt) {
        this.dataStoppedAt = -1;
        this.dataBufferedBytes = 0;
        const released = stage.drain?.() ?? EMPTY;
        carry = carry && carry.length > 0 ? Buffer.concat([carry, released]) : released;
      }
    }
    this.trailersStoppedAt = -1;
    this.endDelivered = true;
    if (carry !== undefined && carry.length > 0) this.sink.data(carry, false);
    if (this.aborted) return;
    if (this.sink.trailers) this.sink.trailers(trailers);
    else this.sink.data(EMPTY, true);
  }

  /** The stopped filter resumed: continue from the next filter. */
  resume(): void {
    if (this.aborted) return;
    if (this.trailersStoppedAt >= 0) {
      const i = this.trailersStoppedAt;
      this.trailersStoppedAt = -1;
      if (this.dataStoppedAt === i) {
        this.dataStoppedAt = -1;
        this.dataBufferedBytes = 0;
      }
      const released = this.stages[i]!.drain?.() ?? EMPTY;
      const before = this.trailersCarry;
      this.trailersCarry = undefined;
      this.runTrailers(i + 1, before && before.length > 0 ? Buffer.concat([before, released]) : released);
      return;
    }
    if (!this.headersDone && this.headersStoppedAt >= 0) {
      const stoppedAt = this.headersStoppedAt;
      this.runHeaders(stoppedAt + 1);
      if (this.aborted || !this.headersDone) return;
      // Held body now goes through the chain, starting at the filter that held the headers.
      if (this.heldBytes > 0 || (this.ended && !this.endDelivered)) {
        const body = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
        this.held = [];
        this.heldBytes = 0;
        this.runData(body, this.ended, stoppedAt);
        if (this.aborted) return;
      }
      // Held trailers follow from the first filter (those before the one that held the headers saw no
      // trailers yet either).
      if (this.trailersValue && !this.endDelivered) this.runTrailers(0, undefined);
      return;
    }
    if (this.dataStoppedAt >= 0) {
      const i = this.dataStoppedAt;
      this.dataStoppedAt = -1;
      this.dataBufferedBytes = 0;
      const body = this.stages[i]!.drain?.() ?? EMPTY;
      this.runData(body, this.ended, i + 1);
    }
  }

  /** Bytes currently held (headers stopped) or buffered (data stopped). */
  bufferedBytes(): number {
    return this.heldBytes + this.dataBufferedBytes;
  }
}
