// CLI: node --import tsx services/echo/src/main.ts --host 127.0.0.2 --port 8080 --name egress-router1
import { parseArgs } from "node:util";
import { startEcho } from "./echo-server.ts";

const usage = "usage: echo [--host 127.0.0.1] [--port 8080] [--name echo]";

async function main(): Promise<void> {
  let values: { host?: string; port?: string; name?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "8080" },
        name: { type: "string", default: "echo" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port ?? "") || port > 65535)
    fail(`--port must be a number from 0 to 65535, got "${values.port}"`);
  let echo: Awaited<ReturnType<typeof startEcho>>;
  try {
    echo = await startEcho({ host: values.host, port, name: values.name });
  } catch (error) {
    fail(`echo: cannot listen on ${values.host}:${port}: ${(error as Error).message}`);
  }
  console.log(`echo "${echo.name}" listening on ${echo.url}`);
  const stop = () => {
    echo.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

await main();
