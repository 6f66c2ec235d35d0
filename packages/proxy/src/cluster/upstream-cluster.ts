/**
 * One configured cluster: its endpoints (static or resolved by DNS), round-robin host selection, and the
 * connection pools that reach each host (undici for HTTP/1.1, node:http2 for HTTP/2, raw sockets for TCP).
 */
import { lookup } from "node:dns/promises";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { isIP } from "node:net";
import { Pool } from "undici";
import type { ClusterConfig } from "../config/model.ts";
import type { Counter, Histogram, StatStore } from "../stats/stat-store.ts";
import { Http2SessionPool } from "./http2-session-pool.ts";

/** A resolved endpoint. `label` is Envoy's host string, `ip:port` (`[ip]:port` for IPv6). */
export interface UpstreamHost {
  ip: string;
  port: number;
  label: string;
}

function hostLabel(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export class UpstreamCluster {
  private hosts: UpstreamHost[] = [];
  private next = 0;
  private readonly pools = new Map<string, Pool>();
  private readonly h2Pools = new Map<string, Http2SessionPool>();
  private agent: HttpAgent | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Requests in flight, for draining. */
  active = 0;
  private readonly rqTotal: Counter;
  private readonly rqCompleted: Counter;
  private readonly rqTime: Histogram;
  private readonly rqByClass: Counter[];
  private readonly rqByCode = new Map<number, Counter>();

  constructor(
    readonly config: ClusterConfig,
    readonly stats: StatStore,
  ) {
    this.rqTotal = stats.counter(this.statName("upstream_rq_total"));
    this.rqCompleted = stats.counter(this.statName("upstream_rq_completed"));
    this.rqTime = stats.histogram(this.statName("upstream_rq_time"));
    this.rqByClass = [1, 2, 3, 4, 5].map((c) => stats.counter(this.statName(`upstream_rq_${c}xx`)));
    if (config.type === "STATIC") {
      this.hosts = config.endpoints.map((e) => ({
        ip: e.host,
        port: e.port,
        label: hostLabel(e.host, e.port),
      }));
    }
  }

  get name(): string {
    return this.config.name;
  }

  /** Envoy stat name under this cluster: `cluster.<name>.<stat>`. */
  statName(stat: string): string {
    return `cluster.${this.config.name}.${stat}`;
  }

  /** A request was sent to a host of this cluster. */
  countRequest(): void {
    this.rqTotal.inc();
  }

  /** An upstream response arrived: status counters and the upstream_rq_time histogram (ms). */
  countResponse(code: number, ms: number): void {
    this.rqCompleted.inc();
    this.rqByClass[Math.floor(code / 100) - 1]?.inc();
    let byCode = this.rqByCode.get(code);
    if (!byCode) {
      byCode = this.stats.counter(this.statName(`upstream_rq_${code}`));
      this.rqByCode.set(code, byCode);
    }
    byCode.inc();
    this.rqTime.record(ms);
  }

  /**
   * An exchange failed: upstream_rq_rx_reset unless the connection never came up, which the connection
   * pools count as upstream_cx_connect_fail (Envoy's codec client and pool count them, not the router).
   */
  countReset(reset: { readonly connectFailure: boolean }): void {
    if (!reset.connectFailure) this.inc("upstream_rq_rx_reset");
  }

  inc(stat: string): void {
    this.stats.counter(this.statName(stat)).inc();
  }

  /** Resolves DNS endpoints once; STRICT_DNS and LOGICAL_DNS then refresh every dns_refresh_rate. */
  async initialize(): Promise<void> {
    this.stats.gauge(this.statName("membership_total")).set(this.config.endpoints.length);
    if (this.config.type === "STATIC") {
      this.stats.gauge(this.statName("membership_healthy")).set(this.hosts.length);
      return;
    }
    await this.resolve();
    this.refreshTimer = setInterval(() => {
      this.resolve().catch(() => {});
    }, this.config.dnsRefreshMs);
    this.refreshTimer.unref();
  }

  private async resolve(): Promise<void> {
    const family = this.config.dnsFamily === "V4_ONLY" ? 4 : this.config.dnsFamily === "V6_ONLY" ? 6 : 0;
    const resolved: UpstreamHost[] = [];
    for (const e of this.config.endpoints) {
      try {
        const addresses = isIP(e.host)
          ? [{ address: e.host }]
          : await lookup(e.host, { all: true, family, order: family === 0 ? "ipv4first" : "verbatim" });
        const picked = this.config.type === "LOGICAL_DNS" ? addresses.slice(0, 1) : addresses;
        for (const a of picked)
          resolved.push({ ip: a.address, port: e.port, label: hostLabel(a.address, e.port) });
      } catch {
        this.inc("update_failure");
      }
    }
    this.hosts = resolved;
    this.stats.gauge(this.statName("membership_healthy")).set(resolved.length);
    this.inc("update_success");
  }

  get hostCount(): number {
    return this.hosts.length;
  }

  listHosts(): readonly UpstreamHost[] {
    return this.hosts;
  }

  /** Round robin over the current hosts; undefined when there are none (Envoy: "no healthy upstream"). */
  pickHost(): UpstreamHost | undefined {
    const hosts = this.hosts;
    if (hosts.length === 0) return undefined;
    const host = hosts[this.next % hosts.length]!;
    this.next = (this.next + 1) % hosts.length;
    return host;
  }

  /** TLS options shared by HTTP/1.1, HTTP/2 and TCP connections (Envoy verifies only against trusted_ca). */
  tlsOptions():
    | {
        servername?: string;
        ca?: string;
        rejectUnauthorized: boolean;
        cert?: string;
        key?: string;
        ALPNProtocols?: string[];
        checkServerIdentity: () => undefined;
      }
    | undefined {
    const tls = this.config.tls;
    if (!tls) return undefined;
    return {
      ...(tls.sni ? { servername: tls.sni } : {}),
      ...(tls.trustedCa ? { ca: tls.trustedCa } : {}),
      ...(tls.certificateChain ? { cert: tls.certificateChain, key: tls.privateKey! } : {}),
      ...(tls.alpn ? { ALPNProtocols: tls.alpn } : {}),
      // Without a validation_context Envoy accepts any certificate; with one it checks the chain, not the name.
      rejectUnauthorized: tls.trustedCa !== undefined,
      checkServerIdentity: () => undefined,
    };
  }

  /** The HTTP/1.1 connection pool for a host. */
  pool(host: UpstreamHost): Pool {
    let pool = this.pools.get(host.label);
    if (!pool) {
      const tls = this.tlsOptions();
      const origin = `${tls ? "https" : "http"}://${host.label}`;
      pool = new Pool(origin, {
        connect: { timeout: this.config.connectTimeoutMs, ...(tls ?? {}) },
        keepAliveTimeout: 4000,
        headersTimeout: 0,
        bodyTimeout: 0,
        // Envoy checks the response header size against its own limit; undici's default (16 KiB) is lower.
        maxHeaderSize: 96 * 1024,
      });
      pool.on("connect", () => this.inc("upstream_cx_total"));
      pool.on("connectionError", () => this.inc("upstream_cx_connect_fail"));
      this.pools.set(host.label, pool);
    }
    return pool;
  }

  /** node:http's connection pool, for the few HTTP/1.1 requests undici cannot send (those with Expect). */
  nodeAgent(): HttpAgent {
    if (!this.agent) {
      const tls = this.tlsOptions();
      this.agent = tls
        ? new HttpsAgent({ keepAlive: true, timeout: this.config.idleTimeoutMs, ...tls })
        : new HttpAgent({ keepAlive: true, timeout: this.config.idleTimeoutMs });
    }
    return this.agent;
  }

  /** The HTTP/2 session pool for a host. */
  http2(host: UpstreamHost): Http2SessionPool {
    let pool = this.h2Pools.get(host.label);
    if (!pool) {
      pool = new Http2SessionPool(host, this);
      this.h2Pools.set(host.label, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    const closing: Promise<unknown>[] = [];
    for (const p of this.pools.values()) closing.push(p.destroy().catch(() => {}));
    for (const p of this.h2Pools.values()) closing.push(p.close());
    this.agent?.destroy();
    this.agent = undefined;
    this.pools.clear();
    this.h2Pools.clear();
    await Promise.all(closing);
  }
}
