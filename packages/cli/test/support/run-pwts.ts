/** Runs `pwts ARGS` in-process (the real `main`) and keeps what it printed to standard output. */
import { main } from "../../src/main.ts";

export async function runPwts(args: string[]): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    process.exitCode = undefined;
    const code = await main(args);
    return { code, stdout: chunks.join("") };
  } finally {
    process.stdout.write = write;
    process.exitCode = undefined;
  }
}
