/** All configured clusters by name. */
import type { ClusterConfig } from "../config/model.ts";
import type { StatStore } from "../stats/stat-store.ts";
import { UpstreamCluster } from "./upstream-cluster.ts";

export class ClusterManager {
  private readonly clusters = new Map<string, UpstreamCluster>();

  constructor(configs: ClusterConfig[], stats: StatStore) {
    for (const c of configs) this.clusters.set(c.name, new UpstreamCluster(c, stats));
  }

  get(name: string): UpstreamCluster | undefined {
    return this.clusters.get(name);
  }

  all(): UpstreamCluster[] {
    return [...this.clusters.values()];
  }

  async initialize(): Promise<void> {
    await Promise.all(this.all().map((c) => c.initialize()));
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((c) => c.close()));
  }
}
