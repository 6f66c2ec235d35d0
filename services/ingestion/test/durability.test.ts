import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { sampleEvents } from "./support/sample-events.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const TOTAL_EVENTS = 20_000;
const BATCH = 50;
const CLIENTS = 8;
const KILL_AFTER_ACKED = 6_000;

/** Starts the service CLI on a DuckDB file and resolves with its URL once it listens. */
async function startService(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", MAIN, "--host", "127.0.0.11", "--port", "0", "--db", db],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    out += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+?);/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`ingestion exited early (${code ?? signal}): ${out}`)),
    );
  });
  return { child, url };
}

test("every acknowledged event survives a SIGKILL during load and a restart", {
  timeout: 180_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "ingestion-durability-"));
  const db = join(dir, "events.duckdb");
  const children: ChildProcess[] = [];
  try {
    const first = await startService(db);
    children.push(first.child);
    const events = sampleEvents(TOTAL_EVENTS, { seed: 7 });
    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const client = async () => {
      while (!killed && next < events.length) {
        const batch = events.slice(next, next + BATCH);
        next += BATCH;
        try {
          const res = await fetch(`${first.url}/api/v1/events`, {
            method: "POST",
            headers: { "content-type": "application/x-ndjson" },
            body: batch.map((e) => JSON.stringify(e)).join("\n"),
          });
          const body = (await res.json()) as { ids?: string[] };
          if (res.status === 202) acknowledged.push(...body.ids!);
        } catch {
          // the connection died with the service: those events were never acknowledged
          return;
        }
        if (!killed && acknowledged.length >= KILL_AFTER_ACKED) {
          killed = true;
          first.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    if (first.child.exitCode === null && first.child.signalCode === null) await once(first.child, "exit");
    assert.equal(first.child.signalCode, "SIGKILL", "the service was killed mid-load");
    assert.ok(
      acknowledged.length >= KILL_AFTER_ACKED,
      `${acknowledged.length} events acknowledged before the kill`,
    );
    assert.ok(next < events.length, "the kill happened while events were still being sent");

    // Restart on the same file: the service must come up and serve what it acknowledged.
    const second = await startService(db);
    children.push(second.child);
    const apis = (await (await fetch(`${second.url}/api/v1/apis`)).json()) as { apis: { calls: number }[] };
    const served = apis.apis.reduce((sum, a) => sum + a.calls, 0);
    assert.ok(
      served >= acknowledged.length,
      `restarted service counts ${served} events, ${acknowledged.length} acknowledged`,
    );
    second.child.kill("SIGTERM");
    const [code] = await once(second.child, "exit");
    assert.equal(code, 0);

    const instance = await DuckDBInstance.create(db);
    const connection = await instance.connect();
    const rows = (await connection.runAndReadAll("SELECT id FROM api_events")).getRows();
    connection.closeSync();
    instance.closeSync();
    const stored = new Set(rows.map((r) => String(r[0])));
    const missing = acknowledged.filter((id) => !stored.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged events missing`);
  } finally {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
