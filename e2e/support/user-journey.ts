/**
 * What every user-journey test shares: a user's shell (`sh`), every package of this commit packed and
 * published to a loopback npm registry, an empty user project with the CLI installed from it, and a
 * `pwts run` of a project's envoy.yaml that a real client can talk to.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@proxy-wasm-ts/test-support/server-process";
import type { NpmRegistry } from "./npm-registry.ts";

/** The checkout under test: only ever packed, never reached into by the user. */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** The packages this repository publishes (the ones whose package.json is not private). */
export const PUBLISHED_PACKAGES = ["cli", "errors", "host", "js", "proxy", "sdk", "ship"];

export interface Ran {
  stdout: string;
  stderr: string;
}

/** Runs a command as a user would type it; rejects with its output when it exits non-zero. */
export function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(" ")} (in ${cwd}) failed:\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * The environment a user's commands run in: npm pointed at `registry`, no Docker credentials, and not
 * this test's own context (which would make the user's `npm test` report as a subtest of it).
 */
export function userEnv(registry: NpmRegistry, work: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...registry.env, DOCKER_CONFIG: join(work, "no-docker-config") };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** The version every package of this commit has (they are released together). */
export function repoVersion(): string {
  return JSON.parse(readFileSync(join(REPO, "packages/cli/package.json"), "utf8")).version;
}

/**
 * Packs every public package of this commit as `npm publish` would ship it and publishes it to the
 * registry `env` points at. Fails when the set of public packages is not PUBLISHED_PACKAGES, so a new
 * package is never silently left out of the journey.
 */
export async function publishPackages(work: string, env: NodeJS.ProcessEnv): Promise<void> {
  const packs = join(work, "packs");
  await mkdir(packs);
  const names = readdirSync(join(REPO, "packages")).filter(
    (name) => !JSON.parse(readFileSync(join(REPO, "packages", name, "package.json"), "utf8")).private,
  );
  assert.deepEqual(names.sort(), PUBLISHED_PACKAGES);
  for (const name of names) {
    const { stdout } = await sh(
      "npm",
      ["pack", "--silent", "--pack-destination", packs],
      join(REPO, "packages", name),
      env,
    );
    const tarball = join(packs, stdout.trim().split("\n").pop()!);
    await sh("npm", ["publish", tarball], work, env);
  }
}

/** `npm init -y` in an empty `user` directory, then `npm install -D` of the CLI (and `extra` packages). */
export async function installCli(user: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<void> {
  await mkdir(user);
  await sh("npm", ["init", "-y"], user, env);
  await sh("npm", ["install", "-D", "@proxy-wasm-ts/cli", ...extra], user, env);
  const { stdout } = await sh("npx", ["pwts", "--help"], user, env);
  assert.match(stdout, /^Usage: pwts /m);
}

/**
 * Moves the scaffolded envoy.yaml's listener (127.0.0.1:10000) to a free port, so parallel runs stay
 * apart, and applies `edit` to the rest of the file. Returns the port.
 */
export async function prepareEnvoyYaml(plugin: string, edit: (yaml: string) => string = (yaml) => yaml) {
  const port = await freePort();
  const config = join(plugin, "envoy.yaml");
  const yaml = await readFile(config, "utf8");
  assert.match(yaml, /port_value: 10000/);
  await writeFile(config, edit(yaml.replace("port_value: 10000", `port_value: ${port}`)));
  return port;
}

/** A response, with its body read. */
export interface Answer {
  response: Response;
  body: string;
}

/**
 * `npx pwts run envoy.yaml` in `plugin`, one request to each of `urls` once the first answers (in order),
 * then the proxy stopped. Fails with what pwts run printed when nothing answers within 60 s.
 */
export async function requestsThroughPwtsRun(
  plugin: string,
  env: NodeJS.ProcessEnv,
  urls: string[],
): Promise<Answer[]> {
  // A process group: npx's child is the proxy, and stopping the group stops both.
  const proxy: ChildProcess = spawn("npx", ["pwts", "run", "envoy.yaml"], {
    cwd: plugin,
    env,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  proxy.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let running = true;
  const exited = new Promise((resolve) => proxy.once("exit", resolve)).then(() => {
    running = false;
  });
  try {
    const [first, ...rest] = urls;
    const answers = [
      await untilAnswered(
        first!,
        () => running,
        () => stderr,
      ),
    ];
    for (const url of rest) {
      const response = await fetch(url);
      answers.push({ response, body: await response.text() });
    }
    return answers;
  } finally {
    if (running) process.kill(-proxy.pid!, "SIGTERM");
    await exited;
  }
}

async function untilAnswered(url: string, running: () => boolean, log: () => string): Promise<Answer> {
  for (let attempt = 0; attempt < 600 && running(); attempt++) {
    try {
      const response = await fetch(url);
      return { response, body: await response.text() };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const why = running() ? "still running after 60 s" : "exited";
  throw new Error(`nothing answered ${url} (pwts run ${why}):\n${log()}`);
}
