/**
 * The user journey, against a real npm registry: every package of this commit is packed as `npm publish`
 * would ship it and published to Verdaccio on loopback; then, in an empty directory outside the repository,
 * a user installs the CLI, scaffolds a plugin, tests and builds it, runs its envoy.yaml and sends it a
 * request, pushes it to a loopback OCI registry and writes its Istio WasmPlugin. Nothing here reaches into
 * the checkout except to pack it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startRegistry, type TestRegistry } from "@proxy-wasm-ts/test-support/docker-registry";
import { freePort } from "@proxy-wasm-ts/test-support/server-process";
import { type NpmRegistry, startNpmRegistry } from "./support/npm-registry.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command as a user would type it; the test fails with its output when it exits non-zero. */
function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(" ")} (in ${cwd}) failed:\n${stdout}\n${stderr}`));
      else resolve({ code: 0, stdout, stderr });
    });
  });
}

let npmRegistry: NpmRegistry;
let ociRegistry: TestRegistry;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pwts-journey-"));
  // One after the other: when one fails to start, the other is already held and `after` stops it.
  ociRegistry = await startRegistry();
  npmRegistry = await startNpmRegistry();
});
after(async () => {
  await npmRegistry?.stop();
  await ociRegistry?.stop();
  await rm(work, { recursive: true, force: true });
});

test("a user installs pwts from a registry, then inits, tests, builds, runs, pushes and ships a plugin", {
  timeout: 1_500_000,
}, async (t) => {
  const env: NodeJS.ProcessEnv = { ...npmRegistry.env, DOCKER_CONFIG: join(work, "no-docker-config") };
  // A test run's own context would make the user's `npm test` report as a subtest of this one.
  delete env.NODE_TEST_CONTEXT;

  await t.test("every package of this commit packs and publishes", async () => {
    const packs = join(work, "packs");
    await mkdir(packs);
    const names = readdirSync(join(REPO, "packages")).filter(
      (name) => !JSON.parse(readFileSync(join(REPO, "packages", name, "package.json"), "utf8")).private,
    );
    assert.deepEqual(names.sort(), ["cli", "errors", "host", "proxy", "sdk", "ship"]);
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
  });

  const user = join(work, "user");
  const plugin = join(user, "my-plugin");

  await t.test("npm install -D @proxy-wasm-ts/cli in an empty project", async () => {
    await mkdir(user);
    await sh("npm", ["init", "-y"], user, env);
    await sh(
      "npm",
      ["install", "-D", "@proxy-wasm-ts/cli", "@proxy-wasm-ts/sdk", "@proxy-wasm-ts/host"],
      user,
      env,
    );
    const { stdout } = await sh("npx", ["pwts", "--help"], user, env);
    assert.match(stdout, /^Usage: pwts /m);
  });

  await t.test("npx pwts init my-plugin, then npm install and npm test in it", async () => {
    await sh("npx", ["pwts", "init", "my-plugin"], user, env);
    const manifest = JSON.parse(await readFile(join(plugin, "package.json"), "utf8"));
    const version = JSON.parse(readFileSync(join(REPO, "packages/cli/package.json"), "utf8")).version;
    assert.equal(
      manifest.devDependencies["@proxy-wasm-ts/sdk"],
      `^${version}`,
      "the installed version, not a path",
    );
    await sh("npm", ["install"], plugin, env);
    const { stdout } = await sh("npm", ["test"], plugin, env);
    assert.match(stdout, /^(#|ℹ) pass 3$/m);
    assert.match(stdout, /^(#|ℹ) fail 0$/m);
  });

  await t.test("npx pwts build prints the module's size and Envoy-only imports", async () => {
    const { stdout } = await sh("npx", ["pwts", "build"], plugin, env);
    assert.match(stdout, /^build\/plugin\.wasm: \d+ bytes/m);
    assert.match(stdout, /env\.proxy_/);
    assert.doesNotMatch(stdout, /env\.abort/);
  });

  await t.test("npx pwts run envoy.yaml: a real client sees the plugin's header", async () => {
    // The template listens on 127.0.0.1:10000; a free port keeps parallel runs apart.
    const port = await freePort();
    const config = join(plugin, "envoy.yaml");
    await writeFile(
      config,
      (await readFile(config, "utf8")).replace("port_value: 10000", `port_value: ${port}`),
    );
    // `npx pwts run` as a process group: npx's child is the proxy, and stopping the group stops both.
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
    try {
      const res = await untilAnswered(`http://127.0.0.1:${port}/`, () => stderr);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-hello"), "world");
      assert.equal(await res.text(), "hello from envoy\n");
    } finally {
      const exited = new Promise((resolve) => proxy.once("exit", resolve));
      process.kill(-proxy.pid!, "SIGTERM");
      await exited;
    }
  });

  await t.test("npx pwts push to a loopback OCI registry, then npx pwts istio pins the digest", async () => {
    const image = `${ociRegistry.host}/plugins/my-plugin:0.1.0`;
    const pushed = await sh("npx", ["pwts", "push", ".", image], plugin, env);
    const digest = pushed.stdout.trim();
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const { stdout } = await sh("npx", ["pwts", "istio", ".", "--image", image], plugin, env);
    assert.match(stdout, /^kind: WasmPlugin$/m);
    assert.match(stdout, new RegExp(`sha256: ${digest.slice("sha256:".length)}`));
    assert.match(stdout, new RegExp(`url: oci://${ociRegistry.host}/plugins/my-plugin@${digest}`));
  });
});

async function untilAnswered(url: string, log: () => string): Promise<Response> {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      return await fetch(url);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing answered ${url} within 60 s; pwts run said:\n${log()}`);
}
