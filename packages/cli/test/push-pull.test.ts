/**
 * `pwts push` and `pwts pull` against Debian's docker-registry on 127.0.0.1; skopeo is the independent
 * reader that checks the printed digest. Most cases run the commands in-process (a `pwts` process costs
 * seconds of start-up); two spawn the real binary to check exit status and one-line errors.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { startRegistry, type TestRegistry } from "@proxy-wasm-ts/test-support/docker-registry";
import { freePort } from "@proxy-wasm-ts/test-support/server-process";
import { tinyPluginWasm } from "@proxy-wasm-ts/test-support/wasm-fixture";
import { pullCommand } from "../src/commands/pull.ts";
import { pushCommand } from "../src/commands/push.ts";
import { capturedIo } from "./support/captured-io.ts";

const execFileAsync = promisify(execFile);
const pwts = join(import.meta.dirname, "..", "bin", "pwts.js");
// No ~/.docker/config.json credentials leak into the tests.
process.env.DOCKER_CONFIG = join(tmpdir(), "pwts-test-no-docker-config");

async function spawnPwts(
  args: string[],
  stdin: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [pwts, ...args], { timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(stdin);
  });
}

describe("pwts push / pull", { timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let secured: TestRegistry;
  let dir: string;
  const wasm = tinyPluginWasm("cli");
  before(async () => {
    registry = await startRegistry();
    secured = await startRegistry({ username: "ci", password: "right-password" });
    dir = await mkdtemp(join(tmpdir(), "pwts-push-"));
    // A plugin folder the way `pwts build` leaves it.
    await mkdir(join(dir, "plugin", "build"), { recursive: true });
    await writeFile(join(dir, "plugin", "build", "plugin.wasm"), wasm);
    await writeFile(join(dir, "demo.wasm"), wasm);
  });
  after(async () => {
    await registry?.stop();
    await secured?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("push a plugin folder: the printed digest is skopeo's; pull gets the module back", async () => {
    const image = `${registry.host}/plugins/cli-demo:0.1.0`;
    const pushed = capturedIo();
    await pushCommand(join(dir, "plugin"), image, { layout: "compat" }, pushed);
    const digest = pushed.stdout.trim();
    assert.match(digest, /^sha256:[a-f0-9]{64}$/);
    assert.match(pushed.stderr, /uploaded \(monolithic\)/);
    assert.ok(pushed.stderr.includes(`url: oci://${registry.host}/plugins/cli-demo@${digest}`));

    const { stdout } = await execFileAsync("skopeo", ["inspect", "--tls-verify=false", `docker://${image}`]);
    assert.equal((JSON.parse(stdout) as { Digest: string }).Digest, digest);

    const out = join(dir, "pulled.wasm");
    const pulled = capturedIo();
    await pullCommand(image, { output: out }, pulled);
    assert.ok(pulled.stdout.includes(`digest: ${digest}\nlayout: compat\n`), pulled.stdout);
    assert.deepEqual(new Uint8Array(await readFile(out)), wasm);
  });

  test("push a .wasm in the two-layer layout with chunked upload and progress", async () => {
    const image = `${registry.host}/plugins/cli-layers:0.1.0`;
    const pushed = capturedIo();
    await pushCommand(join(dir, "demo.wasm"), image, { layout: "wasm-layers", chunkSize: 64 }, pushed);
    assert.match(pushed.stderr, /100%/);
    assert.match(pushed.stderr, /uploaded \(chunked\)/);
    const { stdout } = await execFileAsync("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--raw",
      `docker://${image}`,
    ]);
    const layers = (JSON.parse(stdout) as { layers: Array<{ mediaType: string }> }).layers.map(
      (l) => l.mediaType,
    );
    assert.deepEqual(layers, [
      "application/vnd.module.wasm.config.v1+json",
      "application/vnd.module.wasm.content.layer.v1+wasm",
    ]);
  });

  test("basic auth with --password-stdin; a wrong password is an auth error", async () => {
    const image = `${secured.host}/private/demo:1`;
    const ok = capturedIo("right-password\n");
    await pushCommand(
      join(dir, "plugin"),
      image,
      { layout: "compat", username: "ci", passwordStdin: true },
      ok,
    );
    assert.match(ok.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    await assert.rejects(
      pushCommand(
        join(dir, "plugin"),
        image,
        { layout: "compat", username: "ci", passwordStdin: true },
        capturedIo("nope\n"),
      ),
      (err: Error) =>
        err.name === "UserError" && err.message.startsWith(`${secured.host} rejected the credentials`),
    );
  });

  test("an unreachable registry and a missing module are user errors", async () => {
    const port = await freePort();
    await assert.rejects(
      pullCommand(`127.0.0.1:${port}/plugins/demo:1`, {}, capturedIo()),
      (err: Error) =>
        err.name === "UserError" &&
        /^cannot reach registry 127\.0\.0\.1:\d+ .*connection refused/.test(err.message),
    );
    await assert.rejects(
      pushCommand(dir, `${registry.host}/x/y:1`, { layout: "compat" }, capturedIo()),
      /build\/plugin\.wasm: not found; build the plugin first/,
    );
  });

  test("the pwts binary: exit 0 with the digest on stdout; exit 1 with one line for a wrong password", async () => {
    const ok = await spawnPwts(["push", join(dir, "demo.wasm"), `${registry.host}/plugins/bin:1`, "-q"], "");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^sha256:[a-f0-9]{64}\n$/);
    const bad = await spawnPwts(
      ["push", join(dir, "demo.wasm"), `${secured.host}/private/bin:1`, "-u", "ci", "--password-stdin"],
      "wrong\n",
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^pwts: 127\.0\.0\.1:\d+ rejected the credentials[^\n]*\n$/m);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
  });
});
