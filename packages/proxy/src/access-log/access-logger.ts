/** Writes formatted access-log lines to stdout, stderr or a file. */
import { createWriteStream, type WriteStream } from "node:fs";
import type { AccessLogConfig } from "../config/model.ts";
import type { StreamInfo } from "../stream-info.ts";
import { compileJsonFormat, compileTextFormat, type LogFormatter } from "./format.ts";

/** Where "stdout"/"stderr" loggers write; tests and embedders may redirect them. */
export interface OutputStreams {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export class AccessLogger {
  private readonly format: LogFormatter;
  private file: WriteStream | undefined;
  private readonly write: (text: string) => void;

  /** Throws an Error naming an unsupported operator. */
  constructor(config: AccessLogConfig, out: OutputStreams) {
    this.format =
      config.format.kind === "text"
        ? compileTextFormat(config.format.template)
        : compileJsonFormat(config.format.fields);
    const sink = config.sink;
    if (sink.kind === "file") {
      const file = createWriteStream(sink.path, { flags: "a" });
      file.on("error", (err) => out.stderr(`access log ${sink.path}: ${err.message}\n`));
      this.file = file;
      this.write = (t) => file.write(t);
    } else this.write = sink.kind === "stdout" ? out.stdout : out.stderr;
  }

  log(info: StreamInfo): void {
    this.write(this.format(info));
  }

  close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    return f ? new Promise((resolve) => f.end(() => resolve())) : Promise.resolve();
  }
}
