/**
 * The README's "Write and test your own plugin" block, run verbatim in a fresh copy of this checkout after
 * the quick start's `npm install`: `pwts init` must link the checkout's packages, and the new project's own
 * `npm install && npm test` must pass.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("..", import.meta.url));
let work: string | undefined;

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The first ```sh block under the README heading `title`. */
async function readmeBlock(title: string): Promise<string> {
  const readme = await readFile(join(REPO, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${title}\n`));
  assert.ok(section, `README.md has no "## ${title}" section`);
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(section)?.[1];
  assert.ok(block, `README.md's "${title}" section has no sh block`);
  return block;
}

test("the README's own-plugin block, run verbatim in a fresh checkout after npm install, exits 0", {
  timeout: 900_000,
}, async () => {
  const block = await readmeBlock("Write and test your own plugin");
  work = await mkdtemp(join(tmpdir(), "pwts-readme-"));
  const clone = join(work, "proxy-wasm-ts");
  // A fresh clone: what git tracks, plus new files it does not ignore (so uncommitted work is tested too).
  const { stdout: listed } = await run(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: REPO,
      maxBuffer: 64 << 20,
    },
  );
  for (const file of new Set(listed.split("\0").filter(Boolean))) {
    await mkdir(dirname(join(clone, file)), { recursive: true });
    await cp(join(REPO, file), join(clone, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err; // deleted in the working tree but not yet in the index
    });
  }
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  await run("npm", ["install", "--no-audit", "--no-fund"], { cwd: clone, env, maxBuffer: 64 << 20 });
  const result = await run("sh", ["-c", block], { cwd: clone, env, maxBuffer: 64 << 20 }).catch(
    (err: { stdout?: string; stderr?: string }) => {
      assert.fail(`README block failed:\n${block}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
    },
  );
  assert.match(result.stdout, /^(#|ℹ) pass 3$/m);
  assert.match(result.stdout, /^(#|ℹ) fail 0$/m);
  const manifest = JSON.parse(await readFile(join(clone, "my-plugin", "package.json"), "utf8"));
  // The README's first own-plugin path is TypeScript: from a checkout, the guest API links the checkout's own.
  assert.equal(manifest.dependencies["@proxy-wasm-ts/js"], "file:../packages/js");
});
