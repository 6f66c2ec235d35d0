/** What every connection of one TCP (tcp_proxy) listener shares. */
import type { AccessLogger } from "../access-log/access-logger.ts";
import type { ClusterManager } from "../cluster/cluster-manager.ts";
import type { ListenerIdentity, TcpProxyConfig } from "../config/model.ts";
import type { StatStore } from "../stats/stat-store.ts";
import type { NetworkFilterFactory } from "./network-filter.ts";

export interface TcpListenerContext {
  listener: ListenerIdentity;
  config: TcpProxyConfig;
  clusters: ClusterManager;
  stats: StatStore;
  accessLogs: AccessLogger[];
  filterFactories: NetworkFilterFactory[];
  bufferLimitBytes: number;
}
