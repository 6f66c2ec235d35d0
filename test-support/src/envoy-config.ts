/** YAML builders for test bootstraps shaped like the seeds' envoy.yaml files (ports 0 on 127.0.0.1). */

export function staticCluster(name: string, port: number, host = "127.0.0.1", extra = ""): string {
  return `
  - name: ${name}
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: ${name}
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ${host}, port_value: ${port} } } } }] }]${extra}`;
}

/**
 * An `envoy.filters.http.wasm` filter wrapped in a TypedStruct, as seed 003 writes it. `configuration` is
 * the plugin's configuration text (a StringValue), JSON or anything else.
 */
export function wasmHttpFilter(
  file: string,
  options: { name?: string; rootId?: string; vmId?: string; configuration?: string; extra?: string } = {},
): string {
  const name = options.name ?? "plugin";
  // A YAML single-quoted scalar: the text as is, with its single quotes doubled.
  const configuration = options.configuration?.replaceAll("'", "''");
  return `
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/udpa.type.v1.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              value:
                config:
                  name: "${name}"
                  root_id: "${options.rootId ?? name}"
                  ${configuration ? `configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: '${configuration}' }` : ""}
                  ${options.extra ?? ""}
                  vm_config:
                    vm_id: "${options.vmId ?? ""}"
                    runtime: envoy.wasm.runtime.v8
                    code: { local: { filename: "${file}" } }`;
}

/**
 * One HTTP listener (`web` unless named) with a stdout access log (unless `accessLog: false`), the given
 * routes, filters and clusters, and an admin listener (unless `admin: false`).
 */
export function httpBootstrap(options: {
  filters?: string;
  routes: string;
  clusters: string;
  hcmExtra?: string;
  listenerName?: string;
  listenerExtra?: string;
  accessLog?: boolean;
  accessLogFormat?: string;
  statsTags?: string;
  admin?: boolean;
}): string {
  const format = options.accessLogFormat
    ? `
              log_format: { text_format_source: { inline_string: "${options.accessLogFormat}" } }`
    : "";
  const accessLog =
    options.accessLog === false
      ? ""
      : `
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog${format}`;
  const admin =
    options.admin === false
      ? ""
      : `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
`;
  return `
${options.statsTags ?? ""}
static_resources:
  listeners:
  - name: ${options.listenerName ?? "web"}
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }${options.listenerExtra ?? ""}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http${options.hcmExtra ?? ""}${accessLog}
          route_config:
            name: local_route
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:${options.routes}
          http_filters:${options.filters ?? ""}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:${options.clusters}
${admin}`;
}

/** One entry of `static_resources.listeners`: an HTTP listener on a free loopback port whose one route does `route`
 * (e.g. a `direct_response`), with `filters` before the router. */
export function httpListener(name: string, route: string, filters = ""): string {
  return `
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${name}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                ${route}
          http_filters:${filters}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router`;
}
