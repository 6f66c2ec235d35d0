/**
 * Fetches a plugin's module bytes: a local file, inline bytes, or a remote URL served by a cluster (as
 * Envoy's AsyncDataSource does), checked against the configured sha256.
 */

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ClusterManager } from "../cluster/cluster-manager.ts";
import { fetchUpstream } from "../cluster/upstream-request.ts";
import { ConfigError } from "../config/config-error.ts";
import type { PluginCode } from "../config/model.ts";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function fetchRemote(code: PluginCode, clusters: ClusterManager): Promise<Uint8Array> {
  const cluster = clusters.get(code.cluster!);
  const host = cluster?.pickHost();
  if (!cluster || !host)
    throw new ConfigError(code.path, `cannot fetch ${code.location}: cluster ${code.cluster} has no hosts`);
  const url = new URL(code.location);
  const { response, exchange } = fetchUpstream(cluster, host, {
    method: "GET",
    path: url.pathname + url.search,
    authority: url.host,
    scheme: "http",
    headers: [],
    body: undefined,
  });
  const timeoutMs = code.timeoutMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      exchange.abort();
      reject(new Error(`no response within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const res = await Promise.race([response, timedOut]);
    if (res.status !== 200)
      throw new ConfigError(code.path, `cannot fetch ${code.location}: HTTP status ${res.status}`);
    return new Uint8Array(res.body);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(code.path, `cannot fetch ${code.location}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

export async function loadPluginCode(code: PluginCode, clusters: ClusterManager): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (code.inline) bytes = code.inline;
  else if (code.kind === "local") {
    try {
      bytes = new Uint8Array(await readFile(code.location));
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
      throw new ConfigError(code.path, `cannot read Wasm module ${code.location}: ${reason}`);
    }
  } else bytes = await fetchRemote(code, clusters);
  if (code.sha256) {
    const actual = sha256Hex(bytes);
    if (actual !== code.sha256) {
      throw new ConfigError(
        code.path,
        `sha256 mismatch for ${code.location}: expected ${code.sha256}, got ${actual}`,
      );
    }
  }
  return bytes;
}
