// egress-blocklist: answers 451 "blocked by wasm" when the request's host matches a blocked suffix or
// name. The host comes from :authority (HTTP/1.1 Host becomes :authority in Envoy).

import {
  Action,
  Counter,
  HeaderList,
  HttpContext,
  RootContext,
  logError,
  logInfo,
  registerRootContext,
  requestHeaders,
} from "@proxy-wasm-ts/sdk/assembly";
import { BlocklistConfig, parseBlocklistConfig } from "./blocklist-config";
import { matchesSuffix, normalizeHost } from "./host-name";

export * from "@proxy-wasm-ts/sdk/assembly/exports";

class EgressBlocklistRoot extends RootContext {
  config: BlocklistConfig = new BlocklistConfig();
  blocked: Counter | null = null;

  onConfigure(configuration: ArrayBuffer): bool {
    const config = parseBlocklistConfig(configuration);
    if (config.error.length > 0) {
      logError("egress-blocklist: bad configuration: " + config.error);
      return false;
    }
    this.config = config;
    if (this.blocked === null) this.blocked = new Counter("egress_blocklist_blocked_total");
    logInfo(
      "egress-blocklist: blocking suffixes [" + config.suffixes.join(", ") + "] and hosts [" + config.hosts.join(", ") + "]",
    );
    return true;
  }

  /** The rule that blocks `host`, or null. */
  matchingRule(host: string): string | null {
    const config = this.config;
    for (let i = 0; i < config.hosts.length; i++) if (config.hosts[i] == host) return config.hosts[i];
    for (let i = 0; i < config.suffixes.length; i++) if (matchesSuffix(host, config.suffixes[i])) return config.suffixes[i];
    return null;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new EgressBlocklistStream(contextId, this);
  }
}

class EgressBlocklistStream extends HttpContext {
  constructor(
    id: u32,
    readonly plugin: EgressBlocklistRoot,
  ) {
    super(id, plugin);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): Action {
    let authority = requestHeaders.get(":authority");
    if (authority === null) authority = requestHeaders.get("host");
    if (authority === null) return Action.Continue;
    const host = normalizeHost(authority);
    const rule = this.plugin.matchingRule(host);
    if (rule === null) return Action.Continue;
    logInfo("egress-blocklist: blocked " + host + " (rule " + rule + ")");
    const blocked = this.plugin.blocked;
    if (blocked !== null) blocked.increment();
    const config = this.plugin.config;
    const headers = new HeaderList().add("content-type", "text/plain");
    this.sendLocalResponse(config.status, String.UTF8.encode(config.body), headers, -1, "egress_blocklist");
    return Action.Pause;
  }
}

registerRootContext((contextId: u32): RootContext => new EgressBlocklistRoot(contextId));
