import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MalformedHostError, parseHost } from "./host-name.ts";
import { RegionMap, type RegionMapFile } from "./region-map.ts";

/** Options of {@link startDiscovery}. Give either `mapping` or `mappingFile`. */
export interface DiscoveryOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** The mapping itself (validated like a file). */
  mapping?: RegionMapFile | RegionMap;
  /** Path of a JSON mapping file (see {@link RegionMapFile}). */
  mappingFile?: string;
}

/** A running discovery service. */
export interface DiscoveryServer {
  url: string;
  port: number;
  host: string;
  /** The mapping being served. */
  readonly map: RegionMap;
  /**
   * Re-reads the mapping file (the CLI does it on SIGHUP). A file that fails validation is refused with the
   * reason and the current mapping stays in service.
   */
  reload(): Promise<RegionMap>;
  close(): Promise<void>;
}

/**
 * Starts the host -> region discovery service.
 *
 * - `GET /v1/region?host=api.example.com[:port]` -> `{host, region, rule, matched, args: {host, region}}`;
 *   `args.region` keeps the httpbin `/anything?region=` shape the regional-routing seed parses.
 *   400 for a missing or malformed host, 404 when no rule matches.
 * - `GET /v1/mappings` -> the loaded mapping. `GET /healthz` -> `{status: "ok", entries}`.
 *
 * Three GET endpoints do not need a framework; node:http keeps the service dependency-free.
 *
 * @example
 * const d = await startDiscovery({ mapping: { hosts: { "api.example.com": "us_central1" }, default: "us_east1" } });
 * await (await fetch(`${d.url}/v1/region?host=api.example.com`)).json(); // { region: "us_central1", ... }
 * await d.close();
 */
export async function startDiscovery(options: DiscoveryOptions): Promise<DiscoveryServer> {
  let map = await resolveMap(options);
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`discovery: port must be an integer from 0 to 65535, got ${String(options.port)}`);
  }
  const server = createServer((req, res) => handle(map, req, res));
  const reload = async () => {
    if (!options.mappingFile) throw new Error("discovery: reload needs a mappingFile");
    map = await RegionMap.load(options.mappingFile);
    return map;
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    port: bound,
    host,
    get map() {
      return map;
    },
    reload,
    close: () => closeServer(server),
  };
}

async function resolveMap(options: DiscoveryOptions): Promise<RegionMap> {
  if (options.mapping && options.mappingFile) {
    throw new Error("discovery: give either mapping or mappingFile, not both");
  }
  if (options.mapping instanceof RegionMap) return options.mapping;
  if (options.mapping) return RegionMap.from(options.mapping, "inline mapping");
  if (options.mappingFile) return RegionMap.load(options.mappingFile);
  throw new Error("discovery: a mapping or a mappingFile is required");
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** One answer: status, JSON body and extra headers. */
interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function handle(map: RegionMap, req: IncomingMessage, res: ServerResponse): void {
  let answer: Answer;
  try {
    answer = route(map, req);
  } catch (error) {
    answer = { status: 500, body: { error: `discovery: ${String(error)}` } };
  }
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...answer.headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

function route(map: RegionMap, req: IncomingMessage): Answer {
  const url = new URL(req.url ?? "/", "http://discovery.invalid");
  const known = ["/v1/region", "/v1/mappings", "/healthz"];
  if (!known.includes(url.pathname)) {
    return {
      status: 404,
      body: { error: `no such endpoint ${url.pathname}; expected one of ${known.join(", ")}` },
    };
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    return {
      status: 405,
      headers: { allow: "GET, HEAD" },
      body: { error: `method ${req.method} not allowed on ${url.pathname}; use GET` },
    };
  }
  if (url.pathname === "/healthz") return { status: 200, body: { status: "ok", entries: map.size } };
  if (url.pathname === "/v1/mappings") return { status: 200, body: map.toJSON() };

  const raw = url.searchParams.getAll("host");
  if (raw.length !== 1) {
    const error =
      raw.length === 0
        ? "query parameter host is required, e.g. /v1/region?host=api.example.com"
        : "give host once";
    return { status: 400, body: { error } };
  }
  let host: ReturnType<typeof parseHost>;
  try {
    host = parseHost(raw[0]!);
  } catch (error) {
    if (error instanceof MalformedHostError) return { status: 400, body: { error: error.message } };
    throw error;
  }
  const match = map.lookup(host);
  if (!match) {
    return {
      status: 404,
      body: { error: `no region for host ${host}: no entry matches and there is no default rule`, host },
    };
  }
  return { status: 200, body: { ...match, args: { host: match.host, region: match.region } } };
}
