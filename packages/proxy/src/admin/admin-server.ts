/**
 * The admin listener: `/ready`, `/stats`, `/stats/prometheus`, `/clusters`, `/config_dump`, in Envoy's
 * text formats, so scrapers and scripts written against Envoy work unchanged.
 */
import { createServer, type Server } from "node:http";
import type { ClusterManager } from "../cluster/cluster-manager.ts";
import type { StatStore } from "../stats/stat-store.ts";
import { mergePrometheus, renderPrometheus, renderStatsText } from "../stats/stats-render.ts";
import type { TagProducer } from "../stats/tag-extraction.ts";

export interface AdminState {
  stats: StatStore;
  tags: TagProducer;
  clusters: ClusterManager;
  /** The bootstrap document as loaded. */
  configDocument: unknown;
  /** "LIVE" once listeners are up, "DRAINING" during shutdown (Envoy's server.state names). */
  state: () => "LIVE" | "DRAINING" | "PRE_INITIALIZING";
  /** Plugin metrics in Prometheus text (rendered by the host exactly as Envoy does). */
  extraPrometheus: () => string;
  /** Plugin metrics for `/stats`: full name (with the `wasmcustom.` namespace) and value. */
  extraStats: () => Array<{ name: string; value: bigint; histogram: { count: number } | null }>;
}

function clustersText(clusters: ClusterManager, stats: StatStore): string {
  let out = "";
  for (const c of clusters.all()) {
    const get = (s: string) => stats.counters.get(c.statName(s))?.value ?? 0;
    out += `${c.name}::observability_name::${c.name}\n`;
    for (const h of c.listHosts()) {
      const p = `${c.name}::${h.label}`;
      out += `${p}::cx_active::0\n${p}::rq_total::${get("upstream_rq_total")}\n`;
      out += `${p}::health_flags::healthy\n${p}::weight::1\n${p}::hostname::\n`;
    }
  }
  return out;
}

export class AdminServer {
  readonly server: Server;

  constructor(private readonly state: AdminState) {
    const prometheus = () =>
      mergePrometheus(renderPrometheus(state.stats, state.tags), state.extraPrometheus());
    const pluginStatLines = () =>
      state.extraStats().map((m) => {
        const name = m.name.replace(/^wasmcustom\./, "");
        if (!m.histogram) return `${name}: ${m.value}`;
        return m.histogram.count === 0
          ? `${name}: No recorded values`
          : `${name}: count=${m.histogram.count}`;
      });
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://admin");
      const send = (status: number, body: string, type = "text/plain; charset=UTF-8") => {
        res.writeHead(status, {
          "content-type": type,
          "cache-control": "no-cache, max-age=0",
          "x-content-type-options": "nosniff",
        });
        res.end(body);
      };
      switch (url.pathname) {
        case "/ready": {
          const s = state.state();
          return send(s === "LIVE" ? 200 : 503, `${s}\n`);
        }
        case "/stats": {
          if (url.searchParams.get("format") === "prometheus") {
            return send(200, prometheus(), "text/plain; version=0.0.4; charset=utf-8");
          }
          let text = renderStatsText(state.stats, pluginStatLines());
          const filter = url.searchParams.get("filter");
          if (filter) {
            const re = new RegExp(filter);
            text = text
              .split("\n")
              .filter((l) => l && re.test(l.slice(0, l.indexOf(":"))))
              .map((l) => `${l}\n`)
              .join("");
          }
          if (url.searchParams.get("format") === "json") {
            const stats = text
              .split("\n")
              .filter(Boolean)
              .map((l) => {
                const i = l.indexOf(": ");
                const v = Number(l.slice(i + 2));
                return { name: l.slice(0, i), value: Number.isNaN(v) ? l.slice(i + 2) : v };
              });
            return send(200, JSON.stringify({ stats }), "application/json");
          }
          return send(200, text);
        }
        case "/stats/prometheus":
          return send(200, prometheus(), "text/plain; version=0.0.4; charset=utf-8");
        case "/clusters":
          return send(200, clustersText(state.clusters, state.stats));
        case "/config_dump":
          return send(
            200,
            JSON.stringify(
              {
                configs: [
                  {
                    "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
                    bootstrap: state.configDocument,
                  },
                ],
              },
              null,
              2,
            ),
            "application/json",
          );
        case "/server_info":
          return send(
            200,
            JSON.stringify({ state: state.state(), version: "proxy-wasm-ts" }),
            "application/json",
          );
        default:
          return send(
            404,
            "invalid path. admin commands are: /clusters /config_dump /ready /server_info /stats /stats/prometheus\n",
          );
      }
    });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("admin is not bound");
    return { host: a.address, port: a.port };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
