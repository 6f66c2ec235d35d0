/**
 * Route selection as Envoy does it: the virtual host by `:authority` (exact, then the longest `*.suffix`,
 * then the longest `prefix*`, then `*`), then the first route of that host whose match applies.
 */
import type {
  HeaderMatcherConfig,
  RouteConfig,
  RouteTableConfig,
  StringMatcher,
  VirtualHostConfig,
} from "../config/model.ts";
import { isGrpcContentType } from "./grpc-content-type.ts";
import { getJoinedHeader, type HeaderList } from "./header-list.ts";

export interface SelectedRoute {
  virtualHost: VirtualHostConfig;
  route: RouteConfig;
}

export function matchString(m: StringMatcher, value: string): boolean {
  if (m.kind === "regex") return m.regex.test(value);
  const v = m.ignoreCase ? value.toLowerCase() : value;
  const p = m.ignoreCase ? m.value.toLowerCase() : m.value;
  switch (m.kind) {
    case "exact":
      return v === p;
    case "prefix":
      return v.startsWith(p);
    case "suffix":
      return v.endsWith(p);
    default:
      return v.includes(p);
  }
}

function matchHeader(h: HeaderMatcherConfig, headers: HeaderList): boolean {
  const value = getJoinedHeader(headers, h.name);
  let result: boolean;
  if (h.match) result = value !== undefined && matchString(h.match, value);
  else result = (value !== undefined) === (h.present ?? true);
  return h.invert ? !result : result;
}

function parseQuery(path: string): URLSearchParams {
  const q = path.indexOf("?");
  return new URLSearchParams(q >= 0 ? path.slice(q + 1) : "");
}

function matchRoute(route: RouteConfig, pathWithQuery: string, headers: HeaderList): boolean {
  const m = route.match;
  const q = pathWithQuery.indexOf("?");
  let path = q >= 0 ? pathWithQuery.slice(0, q) : pathWithQuery;
  let expected = m.path.value;
  if (!m.caseSensitive) {
    path = path.toLowerCase();
    expected = expected.toLowerCase();
  }
  switch (m.path.kind) {
    case "prefix":
      if (!path.startsWith(expected)) return false;
      break;
    case "path":
      if (path !== expected) return false;
      break;
    case "path_separated_prefix":
      if (!(path === expected || path.startsWith(`${expected}/`))) return false;
      break;
    default:
      if (!m.path.regex!.test(path)) return false;
  }
  for (const h of m.headers) if (!matchHeader(h, headers)) return false;
  // config_impl.cc RouteEntryImplBase::matchRoute: grpc_request_ needs Grpc::Common::isGrpcRequestHeaders.
  if (m.grpc && !isGrpcContentType(getJoinedHeader(headers, "content-type"))) return false;
  if (m.queryParameters.length > 0) {
    const params = parseQuery(pathWithQuery);
    for (const qp of m.queryParameters) {
      const v = params.get(qp.name);
      if (qp.match) {
        if (v === null || !matchString(qp.match, v)) return false;
      } else if ((v !== null) !== (qp.present ?? true)) return false;
    }
  }
  return true;
}

export class RouteTable {
  private readonly exact = new Map<string, VirtualHostConfig>();
  private readonly suffixes: Array<[string, VirtualHostConfig]> = [];
  private readonly prefixes: Array<[string, VirtualHostConfig]> = [];
  private readonly wildcard: VirtualHostConfig | undefined;

  constructor(readonly config: RouteTableConfig) {
    let wildcard: VirtualHostConfig | undefined;
    for (const vh of config.virtualHosts) {
      for (const d of vh.domains) {
        if (d === "*") wildcard = vh;
        else if (d.startsWith("*")) this.suffixes.push([d.slice(1), vh]);
        else if (d.endsWith("*")) this.prefixes.push([d.slice(0, -1), vh]);
        else this.exact.set(d, vh);
      }
    }
    this.suffixes.sort((a, b) => b[0].length - a[0].length);
    this.prefixes.sort((a, b) => b[0].length - a[0].length);
    this.wildcard = wildcard;
  }

  virtualHostFor(authority: string): VirtualHostConfig | undefined {
    const host = authority.toLowerCase();
    const exact = this.exact.get(host);
    if (exact) return exact;
    // A domain with a port matches as written; Envoy then retries without the port.
    const colon = host.lastIndexOf(":");
    const bare = colon > 0 && !host.endsWith("]") ? host.slice(0, colon) : host;
    if (bare !== host) {
      const e = this.exact.get(bare);
      if (e) return e;
    }
    for (const [suffix, vh] of this.suffixes) if (host.endsWith(suffix) || bare.endsWith(suffix)) return vh;
    for (const [prefix, vh] of this.prefixes) if (host.startsWith(prefix)) return vh;
    return this.wildcard;
  }

  select(headers: HeaderList): SelectedRoute | undefined {
    const authority = getJoinedHeader(headers, ":authority") ?? "";
    const vh = this.virtualHostFor(authority);
    if (!vh) return undefined;
    const path = getJoinedHeader(headers, ":path") ?? "/";
    for (const route of vh.routes) if (matchRoute(route, path, headers)) return { virtualHost: vh, route };
    return undefined;
  }
}
