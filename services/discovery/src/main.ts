// CLI: node --import tsx services/discovery/src/main.ts --mapping services/discovery/regions.example.json --port 8081
import { parseArgs } from "node:util";
import { startDiscovery } from "./discovery-server.ts";

const usage = "usage: discovery --mapping <file.json> [--host 127.0.0.1] [--port 8081]";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

let values: { host?: string; port?: string; mapping?: string };
try {
  ({ values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8081" },
      mapping: { type: "string" },
    },
    strict: true,
  }));
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`);
}
if (!values.mapping) fail(`--mapping is required\n${usage}`);
if (!/^\d+$/.test(values.port ?? "") || Number(values.port) > 65535) {
  fail(`--port must be a number from 0 to 65535, got "${values.port}"`);
}
try {
  const server = await startDiscovery({
    host: values.host,
    port: Number(values.port),
    mappingFile: values.mapping,
  });
  console.log(`discovery listening on ${server.url} (${server.map.size} entries from ${values.mapping})`);
  const stop = () => {
    server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  process.on("SIGHUP", () => {
    server.reload().then(
      (map) => console.log(`discovery: reloaded ${map.size} entries from ${values.mapping}`),
      (error: Error) =>
        process.stderr.write(`discovery: reload refused, keeping the current mapping: ${error.message}\n`),
    );
  });
} catch (error) {
  fail(`discovery: ${(error as Error).message}`);
}
