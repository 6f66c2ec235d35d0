/**
 * What `pwts dev` prints. For people: one line per reload (what changed, build time, swap time, module
 * size), errors as the compiler or the config reader gives them, and each access log line followed by the
 * plugin log lines written since the previous one, indented under it. For tools (`--json`): one JSON object
 * per line on stdout (`reload`, `error`, `request` events).
 *
 * A plugin log entry does not carry the request it belongs to, so the grouping goes by time: the plugin
 * lines written before a request's access log line belong to it. That is exact for requests one at a time
 * (how a person tries a plugin out); with requests overlapping, lines go with whichever request logs next.
 */
import type { OutputStreams, ReloadSummary } from "@proxy-wasm-ts/proxy";

/** A swap that happened. */
export interface ReloadEvent {
  /** `plugin`: sources rebuilt; `wasm`: a .wasm file changed; `config`: the config file. */
  kind: "plugin" | "wasm" | "config";
  /** The project directory, `.wasm` path or config file reloaded. */
  target: string;
  /** The files whose change started it. */
  changed: string[];
  buildMs?: number;
  swapMs: number;
  /** New module size in bytes (plugin / wasm). */
  size?: number;
  /** Wasm filters that got the new module (plugin / wasm). */
  filters?: string[];
  /** What a config reload did to the listeners. */
  listeners?: ReloadSummary;
}

/** A build or config error; the old version keeps serving. */
export interface ErrorEvent {
  kind: "build" | "wasm" | "config";
  target: string;
  message: string;
}

/** How long plugin log lines wait for an access log line before they print on their own. */
const UNGROUPED_FLUSH_MS = 200;
// The plugin log lines of formatPluginLog (`[...][wasm] wasm log <name>...`).
const PLUGIN_LOG = /\]\[wasm\] wasm log /;

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export class DevOutput {
  private pluginLines: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly json: boolean,
    private readonly write: OutputStreams = {
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
    },
  ) {}

  /** A progress line ("pwts: ..."), on stderr in both modes. */
  progress(line: string): void {
    this.write.stderr(`pwts: ${line}\n`);
  }

  reload(event: ReloadEvent): void {
    if (this.json) {
      this.event("reload", event);
      return;
    }
    const parts = [`${event.changed.join(", ")} changed`];
    if (event.buildMs !== undefined) parts.push(`built in ${Math.round(event.buildMs)} ms`);
    if (event.filters?.length === 0) parts.push("module unchanged, nothing swapped");
    else if (event.filters)
      parts.push(`swapped ${event.filters.join(", ")} in ${Math.round(event.swapMs)} ms`);
    if (event.size !== undefined) parts.push(`module ${kib(event.size)}`);
    if (event.listeners) {
      const l = event.listeners;
      const listed = (what: string, names: string[]) => (names.length ? [`${what} ${names.join(", ")}`] : []);
      parts.push(
        `listeners reloaded in ${Math.round(event.swapMs)} ms: ` +
          [
            ...listed("replaced", l.replaced),
            ...listed("added", l.added),
            ...listed("removed", l.removed),
            ...listed("unchanged", l.unchanged),
          ].join("; "),
      );
    }
    this.progress(`reload: ${parts.join("; ")}`);
  }

  error(event: ErrorEvent): void {
    if (this.json) {
      this.event("error", event);
      return;
    }
    const what =
      event.kind === "config" ? "config error" : event.kind === "build" ? "build failed" : "cannot load";
    this.write.stderr(`pwts: ${what} (the previous version keeps serving):\n${event.message.trimEnd()}\n`);
  }

  private event(name: string, body: object): void {
    this.write.stdout(`${JSON.stringify({ event: name, ...body })}\n`);
  }

  /** The data plane's output: access log lines with the plugin log lines of their request. */
  streams(): OutputStreams {
    return {
      stdout: (text) => this.accessLog(text),
      stderr: (text) => {
        if (!PLUGIN_LOG.test(text)) {
          this.write.stderr(text);
          return;
        }
        this.pluginLines.push(text.trimEnd());
        clearTimeout(this.flushTimer);
        this.flushTimer = setTimeout(() => this.flushUngrouped(), UNGROUPED_FLUSH_MS);
        this.flushTimer.unref();
      },
    };
  }

  private accessLog(text: string): void {
    clearTimeout(this.flushTimer);
    const lines = this.pluginLines;
    this.pluginLines = [];
    if (this.json) {
      this.event("request", { accessLog: text.trimEnd(), pluginLogs: lines });
      return;
    }
    this.write.stdout(text.endsWith("\n") ? text : `${text}\n`);
    for (const line of lines) this.write.stdout(`    ${line}\n`);
  }

  private flushUngrouped(): void {
    const lines = this.pluginLines;
    this.pluginLines = [];
    if (this.json) for (const line of lines) this.event("log", { pluginLog: line });
    else for (const line of lines) this.write.stderr(`${line}\n`);
  }
}
