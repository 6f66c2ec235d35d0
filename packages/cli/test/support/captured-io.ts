/** A CommandIo that keeps what a command writes, for running the shipping commands in-process. */
import type { CommandIo } from "../../src/ship-commands.ts";

export interface CapturedIo extends CommandIo {
  stdout: string;
  stderr: string;
}

/** `stdin` is what `--password-stdin` reads. */
export function capturedIo(stdin = ""): CapturedIo {
  const io: CapturedIo = {
    stdout: "",
    stderr: "",
    out: (text) => {
      io.stdout += text;
    },
    err: (text) => {
      io.stderr += text;
    },
    readStdin: async () => stdin,
  };
  return io;
}
