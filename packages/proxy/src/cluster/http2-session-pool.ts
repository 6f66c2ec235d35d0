/** One multiplexed HTTP/2 session per upstream host, re-established when it closes (h2c or TLS with ALPN h2). */
import { type ClientHttp2Session, connect } from "node:http2";
import type { UpstreamCluster, UpstreamHost } from "./upstream-cluster.ts";

export class Http2SessionPool {
  private session: ClientHttp2Session | undefined;
  private ready: Promise<ClientHttp2Session> | undefined;

  constructor(
    private readonly host: UpstreamHost,
    private readonly cluster: UpstreamCluster,
  ) {}

  /** A connected session; rejects with the connect error (ECONNREFUSED, ETIMEDOUT...). */
  acquire(): Promise<ClientHttp2Session> {
    const s = this.session;
    if (s && !s.closed && !s.destroyed && this.ready) return this.ready;
    const tls = this.cluster.tlsOptions();
    const authority = `${tls ? "https" : "http"}://${this.host.label}`;
    const session = connect(authority, {
      ...(tls ? { ...tls, ALPNProtocols: ["h2"] } : {}),
    });
    this.session = session;
    this.ready = new Promise<ClientHttp2Session>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = Object.assign(new Error("connect timeout"), { code: "UND_ERR_CONNECT_TIMEOUT" });
        session.destroy(err);
        reject(err);
      }, this.cluster.config.connectTimeoutMs);
      session.once("connect", () => {
        clearTimeout(timer);
        this.cluster.inc("upstream_cx_total");
        this.cluster.inc("upstream_cx_http2_total");
        resolve(session);
      });
      session.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    this.ready.catch(() => {
      this.cluster.inc("upstream_cx_connect_fail");
      if (this.session === session) {
        this.session = undefined;
        this.ready = undefined;
      }
    });
    session.on("error", () => {});
    session.on("close", () => {
      if (this.session === session) {
        this.session = undefined;
        this.ready = undefined;
      }
    });
    session.setTimeout(this.cluster.config.idleTimeoutMs, () => session.close());
    session.unref();
    return this.ready;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    this.ready = undefined;
    if (s && !s.destroyed) {
      // The idle session is unref'd; while it closes it must keep the process alive, or a shutdown that
      // awaits this ends with an empty event loop (exit 13) before the close is reported.
      s.ref();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}
