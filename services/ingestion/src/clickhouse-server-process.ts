import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A clickhouse-server this process started. */
export interface ClickHouseServerProcess {
  /** HTTP interface URL. */
  url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its data directory. */
  stop(): Promise<void>;
}

/** Options of {@link startClickHouseServer}. */
export interface ClickHouseServerOptions {
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Binary. Default `clickhouse-server` (Debian package `clickhouse-server`). */
  binary?: string;
  /** How long to wait for `/ping`. Default 30 s. */
  startTimeoutMs?: number;
}

/**
 * Starts a private clickhouse-server with its data in a fresh temporary directory, listening on loopback on
 * free ports, for tests, benchmarks and local runs. Written for Debian's 18.16 (`<yandex>` config root, which
 * current servers still read).
 */
export async function startClickHouseServer(
  options: ClickHouseServerOptions = {},
): Promise<ClickHouseServerProcess> {
  const host = options.host ?? "127.0.0.1";
  const dir = await mkdtemp(join(tmpdir(), "pwts-clickhouse-"));
  const [httpPort, tcpPort] = [await freePort(host), await freePort(host)];
  const config = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><console>0</console></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>${host}</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
</yandex>
`;
  const users = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.0/8</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`;
  await writeFile(join(dir, "config.xml"), config);
  await writeFile(join(dir, "users.xml"), users);
  const binary = options.binary ?? "clickhouse-server";
  const child = spawn(binary, [`--config-file=${join(dir, "config.xml")}`], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const url = `http://${host}:${httpPort}`;
  const stop = async () => {
    await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (true) {
    const failure = await Promise.race([spawnError, delay(100).then(() => undefined)]);
    if (failure) {
      await rm(dir, { recursive: true, force: true });
      const hint =
        (failure as NodeJS.ErrnoException).code === "ENOENT"
          ? " (install the Debian package clickhouse-server)"
          : "";
      throw new Error(`cannot start ${binary}: ${failure.message}${hint}`);
    }
    if (child.exitCode !== null) {
      const log = await readFile(join(dir, "server.err.log"), "utf8").catch(() => "");
      await rm(dir, { recursive: true, force: true });
      throw new Error(`clickhouse-server exited with ${child.exitCode}: ${(stderr + log).slice(-2000)}`);
    }
    if (await pingOk(url)) return { url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`clickhouse-server did not answer ${url}/ping in time: ${stderr.slice(-2000)}`);
    }
  }
}

async function pingOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
