/**
 * Log output coalesced per event-loop turn. Every plugin log line, data-plane log line and stdout/stderr
 * access-log line used to be its own `write` on the process's stream (one syscall each: process.stderr is
 * synchronous for files, pipes and TTYs on Linux), one more syscall per request under
 * `npm run bench -- chain`. Here the lines written in one turn are joined and written once, when the turn's
 * I/O is done (setImmediate), in the order they were written.
 *
 * Envoy's file sinks buffer the same way (source/common/access_log/access_log_manager_impl.cc,
 * AccessLogFileImpl): `write` appends to flush_buffer_ and a flush thread writes it once it passes
 * MIN_FLUSH_SIZE or when the flush_interval timer fires; its destructor writes what is left. This flushes
 * far sooner (at the end of the turn), and synchronously when the process exits (`exit`), when it is about
 * to die of an uncaught exception (`uncaughtExceptionMonitor`, before Node prints the error), and when the
 * data plane closes, so no line is lost or reordered.
 */
import type { OutputStreams } from "./access-log/access-logger.ts";

type StreamName = keyof OutputStreams;

/** Pending text past this many characters is written at once (Envoy's MIN_FLUSH_SIZE is 64 KiB too). */
const FLUSH_CHARS = 64 * 1024;

export class CoalescedOutput implements OutputStreams {
  /**
   * Pending text as runs of one stream, in the order written: a line to the other stream starts a new run,
   * so stdout and stderr lines keep their order when both go to one terminal.
   */
  private runs: Array<{ stream: StreamName; text: string }> = [];
  private pendingChars = 0;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly target: OutputStreams) {}

  readonly stdout = (text: string): void => this.add("stdout", text);
  readonly stderr = (text: string): void => this.add("stderr", text);

  private add(stream: StreamName, text: string): void {
    const last = this.runs[this.runs.length - 1];
    if (last?.stream === stream) last.text += text;
    else this.runs.push({ stream, text });
    this.pendingChars += text.length;
    if (this.pendingChars >= FLUSH_CHARS) this.flush();
    else this.scheduled ??= setImmediate(this.flush);
  }

  /** Writes everything pending now, in order (an arrow function: it is a process event listener). */
  readonly flush = (): void => {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const runs = this.runs;
    if (runs.length === 0) return;
    this.runs = [];
    this.pendingChars = 0;
    for (const run of runs) this.target[run.stream](run.text);
  };
}

let processOutput: CoalescedOutput | undefined;

/**
 * The process's stdout and stderr, coalesced (one instance per process, so lines of every data plane in it
 * keep their order), flushed synchronously on exit and before an uncaught exception is reported.
 */
export function processStreams(): CoalescedOutput {
  if (!processOutput) {
    const out = new CoalescedOutput({
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
    });
    process.on("exit", out.flush);
    process.on("uncaughtExceptionMonitor", out.flush);
    processOutput = out;
  }
  return processOutput;
}
