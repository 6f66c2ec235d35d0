/**
 * Tests reach other workspaces only through their public entry points: no test file (or test support
 * file) imports another package's `src/` or `test/` by relative path, and every package a test imports is
 * declared in the importing workspace's package.json. Shared test helpers live in the private
 * `@proxy-wasm-ts/test-support` workspace.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { test } from "node:test";

const ROOT = resolve(import.meta.dirname, "..");
const SKIP = new Set(["node_modules", "dist", "build", "fixtures", "assembly", "template", ".git"]);

/** Workspace directories (relative to the root) from the root package.json's `workspaces` globs. */
function workspaces(): string[] {
  const globs = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { workspaces: string[] })
    .workspaces;
  return globs.flatMap((glob) => {
    if (!glob.endsWith("/*")) return [glob];
    const parent = glob.slice(0, -2);
    return readdirSync(join(ROOT, parent))
      .map((name) => `${parent}/${name}`)
      .filter((dir) => existsSync(join(ROOT, dir, "package.json")));
  });
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The test code of the repository: each workspace's test/, and the root's e2e/ and *.test.ts files. */
function testFiles(spaces: string[]): string[] {
  const files = spaces.flatMap((space) => tsFiles(join(ROOT, space, "test")));
  files.push(...tsFiles(join(ROOT, "e2e")));
  for (const dir of ["scripts", "demo"])
    files.push(...tsFiles(join(ROOT, dir)).filter((f) => f.endsWith(".test.ts")));
  return files;
}

/** Module specifiers of static imports, re-exports and dynamic imports. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']/gm))
    found.push(m[1]!);
  for (const m of source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]!);
  return found;
}

const spaces = workspaces();
/** The workspace a path belongs to ("" for the root). */
function workspaceOf(path: string): string {
  const rel = relative(ROOT, path).split(sep).join("/");
  return spaces.find((space) => rel === space || rel.startsWith(`${space}/`)) ?? "";
}

test("no test imports another package's src/ or test/ by relative path", () => {
  const crossings: string[] = [];
  for (const file of testFiles(spaces)) {
    const own = workspaceOf(file);
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      const space = workspaceOf(target);
      if (space === own) continue;
      const inside = relative(join(ROOT, space), target).split(sep)[0];
      if (space !== "" && (inside === "src" || inside === "test")) {
        crossings.push(`${relative(ROOT, file)} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(
    crossings,
    [],
    "import these through the package's exports or @proxy-wasm-ts/test-support",
  );
});

test("every package a test imports is declared in its workspace's package.json", () => {
  const builtins = new Set(builtinModules);
  const missing = new Set<string>();
  for (const file of testFiles(spaces)) {
    const space = workspaceOf(file);
    const manifest = JSON.parse(readFileSync(join(ROOT, space, "package.json"), "utf8")) as Record<
      string,
      Record<string, string> | string
    >;
    const declared = new Set([
      String(manifest.name),
      ...Object.keys((manifest.dependencies as Record<string, string>) ?? {}),
      ...Object.keys((manifest.devDependencies as Record<string, string>) ?? {}),
      ...Object.keys((manifest.peerDependencies as Record<string, string>) ?? {}),
    ]);
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".") || spec.startsWith("node:") || spec.startsWith("/")) continue;
      const parts = spec.split("/");
      const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
      if (builtins.has(name) || declared.has(name)) continue;
      missing.add(
        `${relative(ROOT, file)} imports ${name}, which ${space || "the root"}/package.json does not declare`,
      );
    }
  }
  assert.deepEqual([...missing], []);
});
