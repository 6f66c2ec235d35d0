/**
 * Starts the whole demo in this process: the echo upstreams, the discovery service, the ingestion service on
 * its embedded store, then one local data plane per plugin running that plugin's own `envoy.yaml`. Stops
 * everything in reverse order.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { startDiscovery } from "@proxy-wasm-ts/discovery";
import { startEcho } from "@proxy-wasm-ts/echo";
import { startIngestion } from "@proxy-wasm-ts/ingestion";
import { ListenError, type LocalDataPlane, parseBootstrapText, startProxy } from "@proxy-wasm-ts/proxy";
import { buildPlugin, isBuildUpToDate } from "../plugins/test-support/plugin-build.ts";
import { shiftEnvoyPorts } from "./port-offset.ts";
import { DEMO_PLUGINS, DISCOVERY, ECHO_INSTANCES, INGESTION } from "./topology.ts";

export interface DemoOptions {
  /** Repository root (plugins/, services/ and packages/ below it). */
  root: string;
  /** Added to every port of the demo. */
  portOffset: number;
  /** Where the ingestion service keeps its DuckDB file. */
  dataDir: string;
  /** Progress lines for the user. */
  progress: (line: string) => void;
  /** Access-log and plugin-log lines of one plugin's data plane. */
  proxyOutput: (plugin: string, text: string) => void;
}

/** One running piece, for the "what runs where" table. */
export interface RunningPart {
  name: string;
  kind: "echo" | "discovery" | "ingestion" | "proxy";
  address: string;
  note: string;
}

export interface RunningDemo {
  parts: RunningPart[];
  stop(): Promise<void>;
}

/** A port the demo needs is taken: names it, and says how to move the demo. */
export class DemoPortInUseError extends Error {
  constructor(what: string, address: string) {
    super(
      `${address} (${what}) is already in use. Is another \`npm start\` running? Stop it, or move every demo ` +
        "port with `npm start -- --port-offset 100`.",
    );
    this.name = "DemoPortInUseError";
  }
}

function isAddressInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "EADDRINUSE";
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const { root, portOffset, progress } = options;
  const stops: Array<() => Promise<void>> = [];
  const parts: RunningPart[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    stops.length = 0;
  };
  const guard = async <T>(what: string, address: string, start: () => Promise<T>): Promise<T> => {
    try {
      return await start();
    } catch (err) {
      if (isAddressInUse(err)) throw new DemoPortInUseError(what, address);
      throw err;
    }
  };

  try {
    for (const plugin of DEMO_PLUGINS) {
      const dir = join(root, "plugins", plugin);
      if (await isBuildUpToDate(dir)) continue;
      progress(`building plugins/${plugin}`);
      const began = performance.now();
      const size = (await buildPlugin(dir)).byteLength;
      progress(
        `built plugins/${plugin}/build/plugin.wasm: ${size} bytes in ${Math.round(performance.now() - began)} ms`,
      );
    }

    for (const e of ECHO_INSTANCES) {
      const port = e.port + portOffset;
      const address = `${e.host}:${port}`;
      const echo = await guard(`echo ${e.name}`, address, () =>
        startEcho({ host: e.host, port, name: e.name }),
      );
      stops.push(() => echo.close());
      parts.push({ name: e.name, kind: "echo", address, note: e.role });
      progress(`echo ${e.name} on http://${address}`);
    }

    const discoveryAddress = `${DISCOVERY.host}:${DISCOVERY.port + portOffset}`;
    const discovery = await guard("discovery service", discoveryAddress, () =>
      startDiscovery({
        host: DISCOVERY.host,
        port: DISCOVERY.port + portOffset,
        mappingFile: join(root, "services/discovery/regions.example.json"),
      }),
    );
    stops.push(() => discovery.close());
    parts.push({ name: "discovery", kind: "discovery", address: discoveryAddress, note: "host -> region" });
    progress(`discovery on http://${discoveryAddress}`);

    await mkdir(options.dataDir, { recursive: true });
    const ingestionAddress = `${INGESTION.host}:${INGESTION.port + portOffset}`;
    const ingestion = await guard("ingestion service", ingestionAddress, () =>
      startIngestion({
        host: INGESTION.host,
        port: INGESTION.port + portOffset,
        store: { engine: "duckdb", path: join(options.dataDir, "events.duckdb") },
      }),
    );
    stops.push(() => ingestion.close());
    parts.push({
      name: "ingestion",
      kind: "ingestion",
      address: ingestionAddress,
      note: "API events + dashboard",
    });
    progress(`ingestion + dashboard on http://${ingestionAddress}/`);

    for (const plugin of DEMO_PLUGINS) {
      const dir = join(root, "plugins", plugin);
      const file = join(dir, "envoy.yaml");
      const text = shiftEnvoyPorts(await readFile(file, "utf8"), portOffset);
      const config = parseBootstrapText(text, file, dir);
      let proxy: LocalDataPlane;
      try {
        proxy = await startProxy(config, {
          output: {
            stdout: (t) => options.proxyOutput(plugin, t),
            stderr: (t) => options.proxyOutput(plugin, t),
          },
        });
      } catch (err) {
        if (err instanceof ListenError && err.systemCode === "EADDRINUSE") {
          throw new DemoPortInUseError(`${plugin} listener ${err.listener}`, err.address);
        }
        throw err;
      }
      stops.push(() => proxy.close());
      const listeners = proxy.listeners.map((l) => `${l.host}:${l.port}`).join(", ");
      const admin = proxy.admin ? `admin ${proxy.admin.host}:${proxy.admin.port}` : "no admin";
      parts.push({ name: plugin, kind: "proxy", address: listeners, note: admin });
      progress(`${plugin} on ${listeners} (${admin})`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { parts, stop };
}
