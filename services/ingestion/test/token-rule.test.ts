import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startIngestion } from "../src/ingestion-server.ts";
import { isLoopbackAddress, isLoopbackHost } from "../src/listen-address.ts";

// 192.0.2.1 is a documentation address (RFC 5737): not loopback, and on no interface, so nothing ever listens there.
const NOT_LOOPBACK = "192.0.2.1";
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

test("the service refuses to start on a non-loopback address without a token, naming the token option", async () => {
  await assert.rejects(
    startIngestion({ host: NOT_LOOPBACK, store: { engine: "duckdb", path: ":memory:" } }),
    (error: Error) => {
      assert.match(error.message, /refusing to listen on 192\.0\.2\.1 without an intake token/);
      assert.match(error.message, /`token` option \(INGESTION_TOKEN for the command line\)/);
      return true;
    },
  );
});

test("with a token, a non-loopback address passes the token rule (and only the bind can fail)", async () => {
  let started: Awaited<ReturnType<typeof startIngestion>> | undefined;
  try {
    started = await startIngestion({
      host: NOT_LOOPBACK,
      token: "s3cret",
      store: { engine: "duckdb", path: ":memory:" },
    });
  } catch (error) {
    assert.doesNotMatch((error as Error).message, /token/);
  } finally {
    await started?.close();
  }
});

test("the command line refuses a non-loopback --host without INGESTION_TOKEN, before opening the store", {
  timeout: 30_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "ingestion-token-rule-"));
  try {
    const db = join(dir, "events.duckdb");
    const env = { ...process.env };
    delete env.INGESTION_TOKEN;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", MAIN, "--host", NOT_LOOPBACK, "--port", "0", "--db", db],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.resume();
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 2, stderr);
    assert.match(stderr, /refusing to listen on 192\.0\.2\.1 without an intake token/);
    assert.match(stderr, /INGESTION_TOKEN/);
    assert.equal(existsSync(db), false, "no database file was created");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("loopback means 127.0.0.0/8 and ::1 in any spelling; wildcard and other addresses are not", async () => {
  for (const address of ["127.0.0.1", "127.0.0.42", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])
    assert.equal(isLoopbackAddress(address), true, address);
  for (const address of ["0.0.0.0", "::", "10.0.0.1", "192.0.2.1", "::ffff:10.0.0.1", "fe80::1%lo", "x"])
    assert.equal(isLoopbackAddress(address), false, address);
  assert.equal(await isLoopbackHost("localhost"), true);
  assert.equal(await isLoopbackHost("0.0.0.0"), false);
  assert.equal(await isLoopbackHost("::"), false);
});
