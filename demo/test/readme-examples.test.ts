/** Runs the TypeScript examples of the top-level README, so what it shows a newcomer keeps working. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { buildPlugin } from "../../plugins/test-support/plugin-build.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("every ```ts example of README.md runs", { timeout: 300_000 }, async () => {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const examples = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  assert.ok(examples.length >= 1, "README.md has no ```ts example");
  const plugin = join(root, "plugins/header-mutation");
  await buildPlugin(plugin);
  for (const [i, source] of examples.entries()) {
    // Written inside the repository so its imports resolve the workspace packages, run from the root.
    const file = join(root, "demo", `.readme-example-${i}.ts`);
    await writeFile(file, source);
    try {
      await promisify(execFile)(process.execPath, ["--import", "tsx", file], { cwd: root, timeout: 120_000 });
    } catch (err) {
      assert.fail(
        `README example ${i + 1} failed:\n${source}\n${(err as { stderr?: string }).stderr ?? err}`,
      );
    } finally {
      await rm(file, { force: true });
    }
  }
});
