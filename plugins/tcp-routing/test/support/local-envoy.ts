/**
 * Runs a plugin's shipped envoy.yaml on the local data plane for an end-to-end test, with only address
 * changes: listeners and admin move to 127.0.0.1 with a free port, and every cluster points at an
 * address the test gives (services started by the test). Access logs and plugin logs are captured.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type LocalDataPlane, parseBootstrap, startProxy } from "@proxy-wasm-ts/proxy";
import { parse } from "yaml";

export interface Endpoint {
  host: string;
  port: number;
}

export interface LocalEnvoy {
  proxy: LocalDataPlane;
  /** Where listener `name` (or the first listener) accepts connections. */
  listener(name?: string): Endpoint;
  /** Everything written to stdout (access logs) and stderr (plugin logs) so far. */
  stdout: string[];
  stderr: string[];
  /**
   * Waits until the output (access logs, then plugin logs) matches `pattern` and returns the match:
   * access logs are written when a stream or connection ends, which may be after the client is done.
   * The 30 s bound only stops a hang; nothing is asserted about time.
   */
  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray>;
  close(): Promise<void>;
}

type Yaml = Record<string, unknown>;

function socketAddress(address: string, port: number): Yaml {
  return { socket_address: { address, port_value: port } };
}

/** Starts `<pluginDir>/envoy.yaml` with `clusters` mapping each cluster name to a test address. */
export async function startLocalEnvoy(
  pluginDir: string,
  clusters: Record<string, Endpoint>,
): Promise<LocalEnvoy> {
  const document = parse(await readFile(join(pluginDir, "envoy.yaml"), "utf8")) as Yaml;
  const resources = document.static_resources as Yaml;
  for (const listener of (resources.listeners ?? []) as Yaml[])
    listener.address = socketAddress("127.0.0.1", 0);
  for (const cluster of (resources.clusters ?? []) as Yaml[]) {
    const name = cluster.name as string;
    const target = clusters[name];
    if (!target) throw new Error(`the test gives no address for cluster ${name}`);
    cluster.type = "STATIC";
    delete cluster.dns_lookup_family;
    cluster.load_assignment = {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(target.host, target.port) } }] }],
    };
  }
  if (document.admin) (document.admin as Yaml).address = socketAddress("127.0.0.1", 0);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const proxy = await startProxy(parseBootstrap(document, pluginDir), {
    output: { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t) },
  });
  return {
    proxy,
    stdout,
    stderr,
    listener(name?: string): Endpoint {
      const bound = name === undefined ? proxy.listeners[0] : proxy.listeners.find((l) => l.name === name);
      if (!bound) throw new Error(`no listener ${name ?? "at all"}`);
      return { host: bound.host, port: bound.port };
    },
    async waitForOutput(pattern: RegExp): Promise<RegExpMatchArray> {
      for (let waited = 0; ; waited += 50) {
        const match = (stdout.join("") + stderr.join("")).match(pattern);
        if (match) return match;
        if (waited > 30_000)
          throw new Error(`no output matches ${pattern}:\n${stdout.join("")}${stderr.join("")}`);
        await sleep(50);
      }
    },
    close: () => proxy.close(),
  };
}
