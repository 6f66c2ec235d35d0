/**
 * Runs a plugin's shipped envoy.yaml on the local data plane inside the test process, with only address
 * changes: listeners and admin move to 127.0.0.1 with a free port, and every cluster points at an
 * address the test gives (services started by the test on free ports), so these tests never wait for a
 * fixed address and can reach the proxy's objects (e.g. its admin address). Access logs and plugin logs
 * are captured. For the config run unchanged by the real `pwts run`, see pwts-run-process.ts.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type LocalDataPlane, parseBootstrap, startProxy } from "@proxy-wasm-ts/proxy";
import { parse } from "yaml";
import { eventually } from "./waiting.ts";

export interface Endpoint {
  host: string;
  port: number;
}

export interface InProcessDataPlane {
  proxy: LocalDataPlane;
  /** Where listener `name` (or the first listener) accepts connections. */
  listener(name?: string): Endpoint;
  /** `http://<listener>` + `path`, for sendRequest (http-client.ts). */
  url(path: string, listenerName?: string): string;
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
export async function startInProcessDataPlane(
  pluginDir: string,
  clusters: Record<string, Endpoint>,
): Promise<InProcessDataPlane> {
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
  const output = () => stdout.join("") + stderr.join("");
  const listener = (name?: string): Endpoint => {
    const bound = name === undefined ? proxy.listeners[0] : proxy.listeners.find((l) => l.name === name);
    if (!bound) throw new Error(`no listener ${name ?? "at all"}`);
    return { host: bound.host, port: bound.port };
  };
  return {
    proxy,
    stdout,
    stderr,
    listener,
    url(path: string, listenerName?: string): string {
      const { host, port } = listener(listenerName);
      return `http://${host}:${port}${path}`;
    },
    waitForOutput: (pattern: RegExp) =>
      eventually(
        async () => output().match(pattern) ?? undefined,
        () => `no output matches ${pattern}:\n${output()}`,
        30_000,
      ),
    close: () => proxy.close(),
  };
}
