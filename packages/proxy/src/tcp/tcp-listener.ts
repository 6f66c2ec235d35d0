/** A TCP listener whose filter chain ends in tcp_proxy. */
import { createServer, type Server, type Socket } from "node:net";
import { ActiveList } from "../active-list.ts";
import { newConnectionId } from "../stream-info.ts";
import type { TcpListenerContext } from "./tcp-listener-context.ts";
import { TcpSession } from "./tcp-session.ts";

export class TcpListener {
  readonly server: Server;
  private readonly sockets = new ActiveList<Socket>();

  constructor(readonly ctx: TcpListenerContext) {
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) =>
      this.accept(socket),
    );
  }

  /** One connection: from this server, or handed over by a listener (filter chains, TLS). */
  accept(socket: Socket): void {
    const ctx = this.ctx;
    const entry = this.sockets.add(socket);
    socket.on("close", () => this.sockets.remove(entry));
    const prefix = `tcp.${ctx.config.statPrefix}`;
    ctx.stats.counter(`${prefix}.downstream_cx_total`).inc();
    ctx.stats.gauge(`${prefix}.downstream_cx_active`).add(1);
    const session = new TcpSession(ctx, socket, newConnectionId());
    session.start();
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("listener is not bound");
    return { host: a.address, port: a.port };
  }

  /** Stops accepting and waits for open connections to end (then resets them after `timeoutMs`). */
  async drain(timeoutMs: number): Promise<void> {
    // Handed-over connections are waited for by their listener.
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, timeoutMs);
    await closed;
    clearTimeout(deadline);
  }

  async close(): Promise<void> {
    const closed = this.server.listening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
