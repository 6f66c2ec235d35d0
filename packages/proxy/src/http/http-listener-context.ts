/** What every stream of one HTTP listener shares. */

import type { AccessLogger } from "../access-log/access-logger.ts";
import type { ActiveList } from "../active-list.ts";
import type { ClusterManager } from "../cluster/cluster-manager.ts";
import type { HttpConnectionManagerConfig, ListenerIdentity } from "../config/model.ts";
import type { ProxyLog } from "../log.ts";
import type { StatStore } from "../stats/stat-store.ts";
import type { HttpFilterFactory } from "./http-filter.ts";
import type { HttpListenerStats } from "./http-listener-stats.ts";
import type { HttpStream } from "./http-stream.ts";
import type { RouteTable } from "./route-table.ts";

export interface HttpListenerContext {
  listener: ListenerIdentity;
  config: HttpConnectionManagerConfig;
  routeTable: RouteTable;
  clusters: ClusterManager;
  stats: StatStore;
  listenerStats: HttpListenerStats;
  accessLogs: AccessLogger[];
  filterFactories: HttpFilterFactory[];
  /** Streams in flight, for draining. */
  activeStreams: ActiveList<HttpStream>;
  /** The data plane's own log (warnings about what a filter did wrong, ...). */
  log: ProxyLog;
}
