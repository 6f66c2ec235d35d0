// Runs the TypeScript example of each service's README (echo, discovery, ingestion), so the documented usage
// cannot rot. One file for the three: they are the same check on sibling packages.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

for (const service of ["echo", "discovery", "ingestion"]) {
  test(`the ${service} README example runs`, { timeout: 30_000 }, async () => {
    const readme = readFileSync(
      fileURLToPath(new URL(`../../${service}/README.md`, import.meta.url)),
      "utf8",
    );
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, `services/${service}/README.md has a ts example`);
    // Written inside the repository so the package import resolves through the workspace's node_modules.
    const file = fileURLToPath(new URL(`./.readme-example-${service}-${process.pid}.ts`, import.meta.url));
    writeFileSync(file, `${example}\nexport {};\n`);
    try {
      await import(pathToFileURL(file).href);
    } finally {
      rmSync(file, { force: true });
    }
  });
}
