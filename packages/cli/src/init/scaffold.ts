/**
 * `pwts init`: writes a plugin project from the package's `template/` folder. Template files end in
 * `.template` (so the repository's linters and type checker leave them alone) and may use `{{name}}`.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../user-error.ts";

/** This package's folder (the same from src/init and dist/init). */
const CLI_DIR = fileURLToPath(new URL("../../", import.meta.url));
const TEMPLATE_DIR = join(CLI_DIR, "template");
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
  /** npm spec of @proxy-wasm-ts/cli (gives the project `pwts build`, `pwts run`, `pwts push`). */
  cliSpec: string;
}

/** The packages a new project depends on, by the name `pwts init`'s options use. */
export type PackageSpecs = Pick<ScaffoldOptions, "sdkSpec" | "hostSpec" | "cliSpec">;

/**
 * What a new project depends on when no spec is given. Run from a proxy-wasm-ts checkout (this package is
 * `<checkout>/packages/cli`, not inside node_modules), the project links the checkout's packages with
 * `file:` paths, so it tests against the code beside it. Run from an installed CLI, it asks for the
 * versions installed with it (`^x.y.z`), which are the ones the registry it came from has.
 */
export function defaultPackageSpecs(projectDir: string): PackageSpecs {
  const packagesDir = dirname(CLI_DIR.replace(/[/\\]$/, ""));
  const inCheckout =
    !CLI_DIR.split(sep).includes("node_modules") && existsSync(join(packagesDir, "sdk", "package.json"));
  const spec = (name: string): string => {
    if (inCheckout) {
      const path = relative(projectDir, join(packagesDir, name)).split(sep).join("/");
      return `file:${path.startsWith(".") ? path : `./${path}`}`;
    }
    return `^${installedVersion(name)}`;
  };
  return { sdkSpec: spec("sdk"), hostSpec: spec("host"), cliSpec: spec("cli") };
}

/** The version of `@proxy-wasm-ts/<name>` installed beside this CLI. */
function installedVersion(name: string): string {
  if (name === "cli") return packageVersion(join(CLI_DIR, "package.json"));
  // The CLI depends on the SDK and the host, so they resolve from here (hoisted or nested).
  const manifest = import.meta.resolve(`@proxy-wasm-ts/${name}/package.json`);
  return packageVersion(fileURLToPath(manifest));
}

function packageVersion(manifestPath: string): string {
  return (JSON.parse(readFileSync(manifestPath, "utf8")) as { version: string }).version;
}

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
      build: "pwts build",
      test: "pwts build && node --import tsx --test test/*.test.ts",
    },
    devDependencies: {
      "@proxy-wasm-ts/cli": options.cliSpec,
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
