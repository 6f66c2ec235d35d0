// CLI: node --import tsx services/ingestion/src/main.ts --port 8888 [--db data/events.duckdb]
//      node --import tsx services/ingestion/src/main.ts --store clickhouse --clickhouse-url http://127.0.0.1:8123
// The intake token comes from the INGESTION_TOKEN environment variable (a command line is visible in `ps`);
// it is required to listen on anything but loopback.
import { parseArgs } from "node:util";
import { type StoreChoice, startIngestion } from "./ingestion-server.ts";

const usage = `usage: ingestion [--host 127.0.0.1] [--port 8888] [--store duckdb|clickhouse]
  [--db ingestion-data/events.duckdb] [--clickhouse-url http://127.0.0.1:8123] [--clickhouse-database default]
  [--max-pending 50000] [--log]
environment: INGESTION_TOKEN=<bearer token required on intake; required with a --host other than loopback>`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function count(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) fail(`--${name} must be a whole number >= 1, got "${raw}"`);
  return Number(raw);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8888" },
      store: { type: "string", default: "duckdb" },
      db: { type: "string", default: "ingestion-data/events.duckdb" },
      "clickhouse-url": { type: "string", default: "http://127.0.0.1:8123" },
      "clickhouse-database": { type: "string", default: "default" },
      "max-pending": { type: "string" },
      log: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }));
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const port = String(values.port);
if (!/^\d+$/.test(port) || Number(port) > 65535)
  fail(`--port must be a number from 0 to 65535, got "${port}"`);
let store: StoreChoice;
if (values.store === "duckdb") store = { engine: "duckdb", path: String(values.db) };
else if (values.store === "clickhouse") {
  store = {
    engine: "clickhouse",
    url: String(values["clickhouse-url"]),
    database: String(values["clickhouse-database"]),
  };
} else fail(`--store must be duckdb or clickhouse, got "${values.store}"`);

try {
  const server = await startIngestion({
    host: String(values.host),
    port: Number(port),
    store,
    token: process.env.INGESTION_TOKEN || undefined,
    maxPendingEvents: count(values["max-pending"] as string | undefined, "max-pending"),
    log: values.log === true,
  });
  console.log(`ingestion (${server.store.engine}) listening on ${server.url}; dashboard at ${server.url}/`);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      (error: Error) => fail(`ingestion: error while stopping: ${error.message}`),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  fail(`ingestion: ${(error as Error).message}`);
}
