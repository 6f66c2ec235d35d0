export { type DiscoveryOptions, type DiscoveryServer, startDiscovery } from "./discovery-server.ts";
export { type HostName, MalformedHostError, parseHost } from "./host-name.ts";
export {
  type DefaultRule,
  type MatchKind,
  RegionMap,
  type RegionMapFile,
  type RegionMatch,
} from "./region-map.ts";
