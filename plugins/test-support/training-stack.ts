/**
 * The end-to-end setup the training plugins share: the httpbin echo on 127.0.0.50:8080 (and the metadata
 * echo on 127.0.0.51:8080 when asked), the plugin built, and its own envoy.yaml under `pwts run`.
 *
 * Every training plugin's envoy.yaml uses the same httpbin address (plugins/README.md), so when test files
 * run in parallel the echo may be taken by another file's stack: binding is retried until it is free.
 */

import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type EchoServer, startEcho } from "@proxy-wasm-ts/echo";
import { buildPlugin } from "./plugin-build.ts";
import { type PwtsRun, startPwtsRun } from "./pwts-run-process.ts";

const ADDRESS_WAIT_MS = 180_000;

async function startEchoWhenFree(host: string, port: number, name: string): Promise<EchoServer> {
  const deadline = Date.now() + ADDRESS_WAIT_MS;
  for (;;) {
    try {
      return await startEcho({ host, port, name });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

export interface TrainingStack {
  proxy: PwtsRun;
  httpbin: EchoServer;
  metadata: EchoServer | undefined;
  /** Stops the metadata echo early (to show a failing callout); `stop()` will not close it twice. */
  stopMetadata(): Promise<void>;
  stop(): Promise<void>;
}

/** `close` at most once, however often it is asked for. */
function closeOnce(server: EchoServer): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= server.close();
    return closing;
  };
}

/** Builds the plugin and starts its upstreams and `pwts run <pluginDir>/envoy.yaml`. */
export async function startTrainingStack(
  pluginDir: string,
  options: { metadata?: boolean } = {},
): Promise<TrainingStack> {
  await buildPlugin(pluginDir);
  const started: Array<() => Promise<void>> = [];
  try {
    const httpbin = await startEchoWhenFree("127.0.0.50", 8080, "httpbin");
    started.push(closeOnce(httpbin));
    const metadata = options.metadata ? await startEchoWhenFree("127.0.0.51", 8080, "metadata") : undefined;
    const stopMetadata = metadata ? closeOnce(metadata) : async () => {};
    started.push(stopMetadata);
    const proxy = await startPwtsRun(join(pluginDir, "envoy.yaml"));
    return {
      proxy,
      httpbin,
      metadata,
      stopMetadata,
      async stop() {
        await proxy.stop();
        await Promise.all(started.map((close) => close()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((close) => close()));
    throw err;
  }
}
