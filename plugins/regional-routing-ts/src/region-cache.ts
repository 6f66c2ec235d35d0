// Host -> region answers of the discovery service, kept per plugin (one per Envoy worker) for a TTL.
// Expired entries stay until evicted so that a discovery outage can fall back to the last answer.

interface CachedRegion {
  region: string;
  expiresAt: number;
}

export class RegionCache {
  #entries = new Map<string, CachedRegion>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
  ) {}

  /** The fresh region of `host`, or null when absent or expired. */
  fresh(host: string, now: number): string | null {
    const entry = this.#entries.get(host);
    return entry && now < entry.expiresAt ? entry.region : null;
  }

  /** The last region known for `host`, however old, or null. */
  stale(host: string): string | null {
    return this.#entries.get(host)?.region ?? null;
  }

  put(host: string, region: string, now: number): void {
    if (this.maxEntries === 0 || this.ttlMs === 0) return;
    if (this.#entries.has(host)) this.#entries.delete(host);
    else if (this.#entries.size >= this.maxEntries) this.#evict(now);
    this.#entries.set(host, { region, expiresAt: now + this.ttlMs });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries; when none were, drops the oldest (a Map keeps insertion order). */
  #evict(now: number): void {
    let dropped = 0;
    for (const [host, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#entries.delete(host);
        dropped++;
      }
    }
    if (dropped === 0) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}
