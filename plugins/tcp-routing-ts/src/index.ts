// tcp-routing (TypeScript twin of plugins/tcp-routing): a network filter that picks the TCP proxy's
// cluster for each connection from its source address.

import { definePlugin, log } from "@proxy-wasm-ts/js";
import { parseRoutingConfig, type RoutingConfig } from "./routing-config.ts";
import { parseSourceAddress } from "./source-address.ts";

/** The filter-state key Envoy's tcp_proxy reads to override its cluster. */
const TCP_PROXY_CLUSTER = "envoy.tcp_proxy.cluster";

definePlugin<RoutingConfig>({
  configure: parseRoutingConfig,

  onNewConnection(connection) {
    const source = connection.propertyText("source.address");
    if (source === null) {
      log.warn("no source.address; default cluster kept");
      return;
    }
    const address = parseSourceAddress(source);
    if (address === null) {
      log.warn(`source.address "${source}" is not an IP address; default cluster kept`);
      return;
    }
    const cluster = connection.config.clusterFor(address);
    if (cluster === null) {
      log.info(`no route matches source ${source}; default cluster kept`);
      return;
    }
    try {
      connection.setFilterState(TCP_PROXY_CLUSTER, cluster);
    } catch (error) {
      log.error(
        `setting ${TCP_PROXY_CLUSTER} to ${cluster} failed (${(error as Error).message}); default cluster kept`,
      );
      return;
    }
    log.info(`Routed source ${source} to ${cluster}`);
  },
});
