/**
 * A real npm registry on loopback: Verdaccio (from npm), with a throwaway storage. Packages of the
 * `@proxy-wasm-ts` scope are served only from what the test publishes; every other package is proxied from
 * the registry npm itself is configured with, so a user's `npm install` resolves as it would in real life.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { answers, freePort, startServerProcess } from "@proxy-wasm-ts/test-support/server-process";

const execFileAsync = promisify(execFile);

export interface NpmRegistry {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** An npm user config file that points npm at this registry, with a publish token. */
  userConfig: string;
  /** Environment for npm and npx: this registry, this user config, no update notices. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

async function upstreamRegistry(): Promise<string> {
  const { stdout } = await execFileAsync("npm", ["config", "get", "registry"]);
  return stdout.trim() || "https://registry.npmjs.org/";
}

export async function startNpmRegistry(): Promise<NpmRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "pwts-verdaccio-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = join(dir, "config.yaml");
  await writeFile(
    config,
    `storage: ${join(dir, "storage")}
auth:
  htpasswd:
    file: ${join(dir, "htpasswd")}
    max_users: 10
uplinks:
  upstream:
    url: ${await upstreamRegistry()}
    timeout: 60s
packages:
  "@proxy-wasm-ts/*":
    access: $all
    publish: $authenticated
  "**":
    access: $all
    proxy: upstream
log: { type: stdout, format: pretty, level: error }
`,
  );
  // The package exports no bin path; its manifest is found through node_modules and the bin beside it.
  const manifest = createRequire(import.meta.url).resolve("verdaccio/package.json");
  const bin = join(dirname(manifest), "bin", "verdaccio");
  const args = [bin, "--config", config, "--listen", `127.0.0.1:${port}`];
  const server = await startServerProcess({
    name: `Verdaccio on ${url}`,
    command: await nodeForVerdaccio(),
    args,
    dir,
    ready: answers(`${url}-/ping`),
    attempts: 600,
  });
  const { stop } = server;
  try {
    // Verdaccio's htpasswd plugin registers a user on first login and answers with a token.
    const res = await fetch(`${url}-/user/org.couchdb.user:journey`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "journey", password: "journey-password" }),
    });
    const { token } = (await res.json()) as { token?: string };
    if (!res.ok || !token) throw new Error(`could not register a user: HTTP ${res.status}`);
    const userConfig = join(dir, "npmrc");
    await writeFile(userConfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    const env = {
      ...process.env,
      npm_config_registry: url,
      npm_config_userconfig: userConfig,
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
    };
    return { url, userConfig, env, stop };
  } catch (err) {
    await stop();
    throw new Error(`Verdaccio on ${url}: ${(err as Error).message}\n${server.stderr().trim()}`);
  }
}

/**
 * Verdaccio 6 refuses Node < 22. Under an older Node the registry runs on Node 22 from npm's `node`
 * package, installed once into the temporary directory (outside any npm project, so npm leaves it alone).
 */
async function nodeForVerdaccio(): Promise<string> {
  if (Number(process.versions.node.split(".")[0]) >= 22) return process.execPath;
  const prefix = join(tmpdir(), "pwts-node22");
  const binary = join(prefix, "node_modules", "node", "bin", "node");
  if (!existsSync(binary)) {
    await execFileAsync("npm", [
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--prefix",
      prefix,
      "node@22",
    ]);
  }
  return binary;
}
