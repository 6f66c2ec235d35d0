// The network filter: on each new connection, pick the TCP proxy's cluster from the source address.

import {
  Action,
  RootContext,
  StreamContext,
  Status,
  logError,
  logInfo,
  logWarn,
  setEnvoyFilterState,
  sourceAddress,
} from "@proxy-wasm-ts/sdk/assembly";
import { parseIpAddress } from "../../shared-assembly/ip-address";
import { RoutingConfig, parseRoutingConfig } from "./routing-config";

/** The filter-state key Envoy's tcp_proxy reads to override its cluster. */
const TCP_PROXY_CLUSTER = "envoy.tcp_proxy.cluster";

export class TcpRouterRoot extends RootContext {
  config: RoutingConfig = new RoutingConfig();

  onConfigure(configuration: ArrayBuffer): bool {
    const config = parseRoutingConfig(configuration);
    if (config.error.length > 0) {
      logError("invalid configuration: " + config.error);
      return false;
    }
    this.config = config;
    return true;
  }

  createStreamContext(contextId: u32): StreamContext | null {
    return new TcpRouterConnection(contextId, this);
  }
}

class TcpRouterConnection extends StreamContext {
  onNewConnection(): Action {
    const root = changetype<TcpRouterRoot>(this.root);
    const source = sourceAddress();
    if (source === null) {
      logWarn("no source.address; default cluster kept");
      return Action.Continue;
    }
    const address = parseIpAddress(source);
    if (address === null) {
      logWarn(`source.address "${source}" is not an IP address; default cluster kept`);
      return Action.Continue;
    }
    const cluster = root.config.clusterFor(address);
    if (cluster === null) {
      logInfo(`no route matches source ${source}; default cluster kept`);
      return Action.Continue;
    }
    const status = setEnvoyFilterState(TCP_PROXY_CLUSTER, cluster);
    if (status != Status.Ok) {
      logError(`setting ${TCP_PROXY_CLUSTER} to ${cluster} failed (status ${status}); default cluster kept`);
      return Action.Continue;
    }
    logInfo(`Routed source ${source} to ${cluster}`);
    return Action.Continue;
  }
}
