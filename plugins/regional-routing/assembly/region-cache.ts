// Host -> region answers of the discovery service, kept per root context (one per Envoy worker) for a
// TTL. Expired entries stay until evicted so that a discovery outage can fall back to the last answer.

class CachedRegion {
  constructor(
    readonly region: string,
    readonly expiresAtNs: u64,
  ) {}
}

export class RegionCache {
  private entries: Map<string, CachedRegion> = new Map<string, CachedRegion>();

  constructor(
    readonly ttlNs: u64,
    readonly maxEntries: i32,
  ) {}

  /** The fresh region of `host`, or null when absent or expired. */
  fresh(host: string, nowNs: u64): string | null {
    if (!this.entries.has(host)) return null;
    const entry = this.entries.get(host);
    return nowNs < entry.expiresAtNs ? entry.region : null;
  }

  /** The last region known for `host`, however old, or null. */
  stale(host: string): string | null {
    return this.entries.has(host) ? this.entries.get(host).region : null;
  }

  put(host: string, region: string, nowNs: u64): void {
    if (this.maxEntries == 0 || this.ttlNs == 0) return;
    if (this.entries.has(host)) this.entries.delete(host);
    else if (this.entries.size >= this.maxEntries) this.evict(nowNs);
    this.entries.set(host, new CachedRegion(region, nowNs + this.ttlNs));
  }

  get size(): i32 {
    return this.entries.size;
  }

  /** Drops expired entries; when none were, drops the oldest (Map keeps insertion order). */
  private evict(nowNs: u64): void {
    const hosts = this.entries.keys();
    let dropped = 0;
    for (let i = 0; i < hosts.length; i++) {
      if (this.entries.get(hosts[i]).expiresAtNs <= nowNs) {
        this.entries.delete(hosts[i]);
        dropped++;
      }
    }
    if (dropped == 0 && hosts.length > 0) this.entries.delete(hosts[0]);
  }
}
