/**
 * The user journey, against a real npm registry: every package of this commit is packed as `npm publish`
 * would ship it and published to Verdaccio on loopback; then, in an empty directory outside the repository,
 * a user installs the CLI, scaffolds a plugin, tests and builds it, runs its envoy.yaml and sends it a
 * request, pushes it to a loopback OCI registry and writes its Istio WasmPlugin. Nothing here reaches into
 * the checkout except to pack it.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startRegistry, type TestRegistry } from "@proxy-wasm-ts/test-support/docker-registry";
import { type NpmRegistry, startNpmRegistry } from "./support/npm-registry.ts";
import {
  installCli,
  prepareEnvoyYaml,
  publishPackages,
  repoVersion,
  requestsThroughPwtsRun,
  sh,
  userEnv,
} from "./support/user-journey.ts";

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
  const env = userEnv(npmRegistry, work);

  await t.test("every package of this commit packs and publishes", () => publishPackages(work, env));

  const user = join(work, "user");
  const plugin = join(user, "my-plugin");

  await t.test("npm install -D @proxy-wasm-ts/cli in an empty project", async () => {
    await installCli(user, env, ["@proxy-wasm-ts/sdk", "@proxy-wasm-ts/host"]);
  });

  await t.test("npx pwts init my-plugin, then npm install and npm test in it", async () => {
    await sh("npx", ["pwts", "init", "my-plugin"], user, env);
    const manifest = JSON.parse(await readFile(join(plugin, "package.json"), "utf8"));
    assert.equal(
      manifest.devDependencies["@proxy-wasm-ts/sdk"],
      `^${repoVersion()}`,
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
    const port = await prepareEnvoyYaml(plugin);
    const [{ response, body }] = await requestsThroughPwtsRun(plugin, env, [`http://127.0.0.1:${port}/`]);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-hello"), "world");
    assert.equal(body, "hello from envoy\n");
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
