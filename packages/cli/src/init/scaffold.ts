/**
 * `pwts init`: writes a plugin project from the templates next to this file. Template files end in
 * `.template` (so the repository's linters and type checker leave them alone) and may use `{{name}}`.
 */
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../user-error.ts";

const TEMPLATE_DIR = fileURLToPath(new URL("../../template/", import.meta.url));
const SUFFIX = ".template";
// npm's rule for unscoped package names, which the project name becomes.
const VALID_NAME = /^[a-z0-9][a-z0-9._-]{0,213}$/;

export interface ScaffoldOptions {
  /** Project (and npm package) name. */
  name: string;
  /** Directory to create; must not exist or be empty. */
  dir: string;
  /** npm spec of @proxy-wasm-ts/sdk (a version range, or `file:` for a local package). */
  sdkSpec: string;
  /** npm spec of @proxy-wasm-ts/host. */
  hostSpec: string;
}

/** Dependency spec used when none is given: the published version line. */
export const DEFAULT_PACKAGE_SPEC = "^0.1.0";

async function templateFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await templateFiles(path)));
    else if (entry.name.endsWith(SUFFIX)) out.push(path);
  }
  return out;
}

function packageJson(options: ScaffoldOptions): string {
  const manifest = {
    name: options.name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      build: "pwts-build",
      test: "pwts-build && node --import tsx --test test/*.test.ts",
    },
    devDependencies: {
      "@proxy-wasm-ts/host": options.hostSpec,
      "@proxy-wasm-ts/sdk": options.sdkSpec,
      tsx: "^4.23.15",
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Creates the project; returns the files written, relative to `dir`. */
export async function scaffoldPlugin(options: ScaffoldOptions): Promise<string[]> {
  if (!VALID_NAME.test(options.name)) {
    throw new UserError(
      `invalid project name "${options.name}": expected lowercase letters, digits, "-", "_" or ".", starting with a letter or digit`,
    );
  }
  const existing = await stat(options.dir).catch(() => null);
  if (existing && (!existing.isDirectory() || (await readdir(options.dir)).length > 0)) {
    throw new UserError(`${options.dir} already exists and is not an empty directory`);
  }
  const written: string[] = [];
  for (const source of await templateFiles(TEMPLATE_DIR)) {
    let target = relative(TEMPLATE_DIR, source).slice(0, -SUFFIX.length);
    // npm drops files named .gitignore from packages, so the template is stored without the dot.
    if (target === "gitignore") target = ".gitignore";
    const text = (await readFile(source, "utf8")).replaceAll("{{name}}", options.name);
    await mkdir(dirname(join(options.dir, target)), { recursive: true });
    await writeFile(join(options.dir, target), text);
    written.push(target);
  }
  await writeFile(join(options.dir, "package.json"), packageJson(options));
  written.push("package.json");
  return written.sort();
}
