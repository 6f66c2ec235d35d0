/** `envoy.config.route.v3.RouteConfiguration`: virtual hosts, route matches and actions. */
import { readDataSource } from "./data-source.ts";
import type { ConfigMessage, ConfigValue } from "./fields.ts";
import type {
  HeaderMatcherConfig,
  HeaderValueOption,
  QueryParameterMatcherConfig,
  RetryPolicyConfig,
  RouteConfig,
  RouteMatchConfig,
  RouteTableConfig,
  RouteTarget,
  StringMatcher,
  VirtualHostConfig,
} from "./model.ts";

/** Envoy's default route timeout when `timeout` is absent. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

/** RE2 patterns compiled as JavaScript regexes; RE2 is (nearly) a subset, so a failure names the field. */
export function readRegex(value: ConfigValue, wholeMatch: boolean): RegExp {
  const m = value.message();
  const source = m.required("regex").string();
  m.accept("google_re2");
  m.finish();
  try {
    return new RegExp(wholeMatch ? `^(?:${source})$` : source);
  } catch (err) {
    return value.fail(`invalid regex ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

export function readStringMatcher(value: ConfigValue): StringMatcher {
  const m = value.message();
  const ignoreCase = m.optional("ignore_case")?.bool() ?? false;
  const [kind, v] = m.oneOf(["exact", "prefix", "suffix", "contains", "safe_regex"])!;
  m.finish();
  if (kind === "safe_regex") return { kind: "regex", regex: readRegex(v, true) };
  return { kind: kind as "exact" | "prefix" | "suffix" | "contains", value: v.string(), ignoreCase };
}

function readHeaderMatcher(value: ConfigValue): HeaderMatcherConfig {
  const m = value.message();
  const name = m.required("name").nonEmptyString().toLowerCase();
  const invert = m.optional("invert_match")?.bool() ?? false;
  const chosen = m.oneOf(
    [
      "exact_match",
      "safe_regex_match",
      "present_match",
      "prefix_match",
      "suffix_match",
      "contains_match",
      "string_match",
    ],
    false,
  );
  m.finish();
  if (!chosen) return { name, present: true, invert };
  const [kind, v] = chosen;
  switch (kind) {
    case "exact_match":
      return { name, match: { kind: "exact", value: v.string(), ignoreCase: false }, invert };
    case "prefix_match":
      return { name, match: { kind: "prefix", value: v.string(), ignoreCase: false }, invert };
    case "suffix_match":
      return { name, match: { kind: "suffix", value: v.string(), ignoreCase: false }, invert };
    case "contains_match":
      return { name, match: { kind: "contains", value: v.string(), ignoreCase: false }, invert };
    case "safe_regex_match":
      return { name, match: { kind: "regex", regex: readRegex(v, true) }, invert };
    case "present_match":
      return { name, present: v.bool(), invert };
    default:
      return { name, match: readStringMatcher(v), invert };
  }
}

function readQueryMatcher(value: ConfigValue): QueryParameterMatcherConfig {
  const m = value.message();
  const name = m.required("name").nonEmptyString();
  const chosen = m.oneOf(["string_match", "present_match"], false);
  m.finish();
  if (!chosen) return { name, present: true };
  if (chosen[0] === "present_match") return { name, present: chosen[1].bool() };
  return { name, match: readStringMatcher(chosen[1]) };
}

function readMatch(value: ConfigValue): RouteMatchConfig {
  const m = value.message();
  const [kind, v] = m.oneOf(["prefix", "path", "safe_regex", "path_separated_prefix"])!;
  const caseSensitive = m.optional("case_sensitive")?.wrappedBool() ?? true;
  const headers = (m.optional("headers")?.list() ?? []).map(readHeaderMatcher);
  const queryParameters = (m.optional("query_parameters")?.list() ?? []).map(readQueryMatcher);
  // GrpcRouteMatchOptions has no fields: present means gRPC requests only.
  const grpcOptions = m.optional("grpc")?.message();
  grpcOptions?.finish();
  const grpc = grpcOptions !== undefined;
  m.finish();
  if (kind === "safe_regex") {
    return {
      path: { kind: "regex", value: "", regex: readRegex(v, true) },
      caseSensitive,
      headers,
      queryParameters,
      grpc,
    };
  }
  const path = v.string();
  if (kind === "path_separated_prefix" && (path.endsWith("/") || !path.startsWith("/"))) {
    v.fail("must start with / and must not end with /");
  }
  return {
    path: { kind: kind as "prefix" | "path" | "path_separated_prefix", value: path },
    caseSensitive,
    headers,
    queryParameters,
    grpc,
  };
}

export function readHeadersToAdd(value: ConfigValue | undefined): HeaderValueOption[] {
  return (value?.list() ?? []).map((item) => {
    const m = item.message();
    const header = m.required("header").message();
    const key = header.required("key");
    const name = key.nonEmptyString().toLowerCase();
    const valueField = header.optional("value");
    const v = valueField?.string() ?? "";
    // Envoy's HeaderValue validation (HTTP_HEADER_NAME / HTTP_HEADER_VALUE, strict: false).
    if (/[\0\r\n]/.test(name)) key.fail("a header name must not contain NUL, CR or LF");
    if (/[\0\r\n]/.test(v)) valueField!.fail("a header value must not contain NUL, CR or LF");
    header.accept("raw_value");
    header.finish();
    let action: HeaderValueOption["action"] = "append";
    const append = m.optional("append")?.wrappedBool();
    if (append === false) action = "overwrite_or_add";
    const appendAction = m.optional("append_action");
    if (appendAction) {
      const a = appendAction.oneOf([
        "APPEND_IF_EXISTS_OR_ADD",
        "ADD_IF_ABSENT",
        "OVERWRITE_IF_EXISTS_OR_ADD",
        "OVERWRITE_IF_EXISTS",
      ]);
      action = (
        {
          APPEND_IF_EXISTS_OR_ADD: "append",
          ADD_IF_ABSENT: "add_if_absent",
          OVERWRITE_IF_EXISTS_OR_ADD: "overwrite_or_add",
          OVERWRITE_IF_EXISTS: "overwrite_if_exists",
        } as const
      )[a];
    }
    m.accept("keep_empty_value");
    m.finish();
    return { name, value: v, action };
  });
}

function readHeaderNames(value: ConfigValue | undefined): string[] {
  return (value?.list() ?? []).map((v) => v.nonEmptyString().toLowerCase());
}

function readMetadata(value: ConfigValue | undefined): Record<string, unknown> {
  if (!value) return {};
  const m = value.message();
  const filterMetadata = m.optional("filter_metadata");
  m.accept("typed_filter_metadata");
  m.finish();
  return (filterMetadata?.message().raw as Record<string, unknown>) ?? {};
}

function readTarget(m: ConfigMessage): RouteTarget {
  const [kind, v] = m.oneOf(["cluster", "cluster_header", "weighted_clusters"])!;
  if (kind === "cluster") return { kind: "cluster", cluster: v.nonEmptyString() };
  if (kind === "cluster_header") return { kind: "cluster_header", header: v.nonEmptyString().toLowerCase() };
  const w = v.message();
  const clusters = w
    .required("clusters")
    .list()
    .map((c) => {
      const cm = c.message();
      const name = cm.required("name").nonEmptyString();
      const weight = cm.optional("weight")?.wrappedInteger(0, 0xffffffff) ?? 0;
      cm.finish();
      return { name, weight };
    });
  const sum = clusters.reduce((a, c) => a + c.weight, 0);
  const totalWeight = w.optional("total_weight")?.wrappedInteger(1) ?? sum;
  w.accept("runtime_key_prefix");
  w.finish();
  if (sum === 0) v.fail("weights must add up to more than 0");
  if (totalWeight !== sum) v.fail(`total_weight ${totalWeight} does not equal the sum of weights ${sum}`);
  return { kind: "weighted_clusters", clusters, totalWeight };
}

const RETRY_ON = [
  "connect-failure",
  "reset",
  "5xx",
  "gateway-error",
  "retriable-status-codes",
  "refused-stream",
];

function readRetryPolicy(value: ConfigValue): RetryPolicyConfig {
  const m = value.message();
  const retryOnValue = m.optional("retry_on");
  const retryOn = new Set<string>();
  for (const name of (retryOnValue?.string() ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!RETRY_ON.includes(name))
      retryOnValue!.fail(`unsupported retry_on ${JSON.stringify(name)} (supported: ${RETRY_ON.join(", ")})`);
    retryOn.add(name);
  }
  const numRetries = m.optional("num_retries")?.wrappedInteger(0, 100) ?? 1;
  const retriableStatusCodes = (m.optional("retriable_status_codes")?.list() ?? []).map((v) =>
    v.integer(100, 599),
  );
  m.finish();
  return { retryOn, numRetries, retriableStatusCodes };
}

function readRoute(value: ConfigValue, baseDir: string): RouteConfig {
  const m = value.message();
  const name = m.optional("name")?.string() ?? "";
  const match = readMatch(m.required("match"));
  const [kind, v] = m.oneOf(["route", "direct_response", "redirect"])!;
  let action: RouteConfig["action"];
  if (kind === "redirect") return v.fail("redirect routes are not supported (use direct_response)");
  if (kind === "direct_response") {
    const d = v.message();
    const status = d.required("status").integer(200, 599);
    const bodyValue = d.optional("body");
    d.finish();
    action = {
      kind: "direct_response",
      response: { status, ...(bodyValue ? { body: readDataSource(bodyValue, baseDir) } : {}) },
    };
  } else {
    const r = v.message();
    const target = readTarget(r);
    const prefixRewrite = r.optional("prefix_rewrite")?.string();
    const regexRewriteValue = r.optional("regex_rewrite");
    let regexRewrite: { pattern: RegExp; substitution: string } | undefined;
    if (regexRewriteValue) {
      const rr = regexRewriteValue.message();
      const pattern = readRegex(rr.required("pattern"), false);
      regexRewrite = {
        pattern: new RegExp(pattern.source, "g"),
        substitution: rr.required("substitution").string(),
      };
      rr.finish();
    }
    if (prefixRewrite !== undefined && regexRewrite)
      r.fail("only one of prefix_rewrite, regex_rewrite may be set");
    const hostRewrite = r.oneOf(["host_rewrite_literal", "auto_host_rewrite", "host_rewrite_header"], false);
    if (hostRewrite?.[0] === "host_rewrite_header")
      hostRewrite[1].fail("host_rewrite_header is not supported");
    const timeoutMs = r.optional("timeout")?.durationMs() ?? DEFAULT_ROUTE_TIMEOUT_MS;
    const retryValue = r.optional("retry_policy");
    const retryPolicy = retryValue ? readRetryPolicy(retryValue) : undefined;
    // Overrides the connection manager's stream_idle_timeout for this route (0 turns it off).
    const idleValue = r.optional("idle_timeout");
    const idleTimeoutMs = idleValue ? Math.floor(idleValue.durationMs()) : undefined;
    r.finish();
    action = {
      kind: "route",
      route: {
        target,
        ...(prefixRewrite !== undefined ? { prefixRewrite } : {}),
        ...(regexRewrite ? { regexRewrite } : {}),
        ...(hostRewrite?.[0] === "host_rewrite_literal"
          ? { hostRewriteLiteral: hostRewrite[1].string() }
          : {}),
        autoHostRewrite: hostRewrite?.[0] === "auto_host_rewrite" ? hostRewrite[1].wrappedBool() : false,
        ...(retryPolicy ? { retryPolicy } : {}),
        timeoutMs,
        ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
      },
    };
  }
  const route: RouteConfig = {
    name,
    match,
    action,
    requestHeadersToAdd: readHeadersToAdd(m.optional("request_headers_to_add")),
    requestHeadersToRemove: readHeaderNames(m.optional("request_headers_to_remove")),
    responseHeadersToAdd: readHeadersToAdd(m.optional("response_headers_to_add")),
    responseHeadersToRemove: readHeaderNames(m.optional("response_headers_to_remove")),
    metadata: readMetadata(m.optional("metadata")),
    path: value.path,
  };
  m.accept("decorator");
  m.finish();
  return route;
}

function readVirtualHost(value: ConfigValue, baseDir: string): VirtualHostConfig {
  const m = value.message();
  const name = m.required("name").nonEmptyString();
  const domains = m
    .required("domains")
    .list()
    .map((d) => d.nonEmptyString().toLowerCase());
  if (domains.length === 0) m.required("domains").fail("must list at least one domain");
  const routes = (m.optional("routes")?.list() ?? []).map((r) => readRoute(r, baseDir));
  const vh: VirtualHostConfig = {
    name,
    domains,
    routes,
    requestHeadersToAdd: readHeadersToAdd(m.optional("request_headers_to_add")),
    responseHeadersToAdd: readHeadersToAdd(m.optional("response_headers_to_add")),
    metadata: readMetadata(m.optional("metadata")),
  };
  m.finish();
  return vh;
}

export function readRouteTable(value: ConfigValue, baseDir: string): RouteTableConfig {
  const m = value.message();
  const table: RouteTableConfig = {
    name: m.optional("name")?.string() ?? "",
    virtualHosts: (m.optional("virtual_hosts")?.list() ?? []).map((v) => readVirtualHost(v, baseDir)),
    requestHeadersToAdd: readHeadersToAdd(m.optional("request_headers_to_add")),
    responseHeadersToAdd: readHeadersToAdd(m.optional("response_headers_to_add")),
  };
  m.accept("validate_clusters");
  m.finish();
  const seen = new Map<string, string>();
  table.virtualHosts.forEach((vh, i) => {
    for (const d of vh.domains) {
      if (seen.has(d)) {
        value.fail(
          `virtual_hosts[${i}] domain ${JSON.stringify(d)} is already used by virtual host ${seen.get(d)}`,
        );
      }
      seen.set(d, vh.name);
    }
  });
  return table;
}
