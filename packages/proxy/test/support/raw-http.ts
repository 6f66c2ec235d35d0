/**
 * One raw TCP conversation with a listener, for behaviour HTTP client libraries hide: write bytes when
 * the test decides (e.g. only after a `100 Continue`), wait for patterns in what comes back, see the close.
 */
import { connect, type Socket } from "node:net";

export class RawConnection {
  /** Everything received so far, one char per byte. */
  received = "";
  closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.received += d;
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  static open(port: number, host = "127.0.0.1"): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once("connect", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  write(text: string): void {
    this.socket.write(Buffer.from(text, "latin1"));
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with everything received once it matches `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    return this.until(() => pattern.test(this.received), `${pattern}`, timeoutMs);
  }

  /** Resolves with everything received once the proxy closed the connection. */
  waitClosed(timeoutMs = 5000): Promise<string> {
    return this.until(() => this.closed, "the connection to close", timeoutMs);
  }

  private until(done: () => boolean, what: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return false;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.received);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`waited ${timeoutMs} ms for ${what}; got ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
