/** Builds a fixture plugin under test/fixtures with `pwts build` (once per test process). */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { buildPlugin } from "@proxy-wasm-ts/cli/build";

const builds = new Map<string, Promise<Uint8Array>>();

/** The directory of fixture `name`. */
export function fixtureDir(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** The module `pwts build` makes of fixture `name`. */
export function buildFixture(name: string): Promise<Uint8Array> {
  let pending = builds.get(name);
  if (!pending) {
    pending = buildPlugin(fixtureDir(name)).then(
      async (result) => new Uint8Array(await readFile(result.outFile)),
    );
    builds.set(name, pending);
  }
  return pending;
}
