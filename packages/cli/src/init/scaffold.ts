/**
 * `pwts init`: writes a plugin project from the package's `template/` folder. Template files end in
 * `.template` (so the repository's linters and type checker leave them alone) and may use `{{name}}`.
 * An AssemblyScript project takes the folder's files outside `typescript/`; a TypeScript project
 * (`--lang ts`) takes `typescript/` plus the files both share (envoy.yaml, .gitignore).
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
/** Template entries only an AssemblyScript project gets (a TypeScript one has its own in typescript/). */
const ASSEMBLYSCRIPT_ONLY = new Set(["assembly", "test", "README.md.template", "typescript"]);

/** The languages `pwts init --lang` offers. */
export type PluginLanguage = "assemblyscript" | "typescript";
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
  /** Default assemblyscript. */
  language?: PluginLanguage;
  /** npm spec of @proxy-wasm-ts/js (TypeScript projects; default as for the other packages). */
  jsSpec?: string;
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

/** What a new TypeScript project's @proxy-wasm-ts/js is when no spec is given (as defaultPackageSpecs). */
export function defaultJsSpec(projectDir: string): string {
  const packagesDir = dirname(CLI_DIR.replace(/[/\\]$/, ""));
  if (!CLI_DIR.split(sep).includes("node_modules") && existsSync(join(packagesDir, "js", "package.json"))) {
    const path = relative(projectDir, join(packagesDir, "js")).split(sep).join("/");
    return `file:${path.startsWith(".") ? path : `./${path}`}`;
  }
  return `^${installedVersion("js")}`;
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

async function templateFiles(dir: string, skip: ReadonlySet<string> = new Set()): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await templateFiles(path)));
    else if (entry.name.endsWith(SUFFIX)) out.push(path);
  }
  return out;
}

/** The template files of a project in `language`, each with the directory its path is relative to. */
async function templateFor(language: PluginLanguage): Promise<Array<{ source: string; base: string }>> {
  const shared = await templateFiles(TEMPLATE_DIR, ASSEMBLYSCRIPT_ONLY);
  const own =
    language === "typescript"
      ? await templateFiles(join(TEMPLATE_DIR, "typescript"))
      : (await templateFiles(TEMPLATE_DIR, new Set(["typescript"]))).filter((file) => !shared.includes(file));
  const base = language === "typescript" ? join(TEMPLATE_DIR, "typescript") : TEMPLATE_DIR;
  return [
    ...shared.map((source) => ({ source, base: TEMPLATE_DIR })),
    ...own.map((source) => ({ source, base })),
  ];
}

function packageJson(options: ScaffoldOptions): string {
  const typescript = options.language === "typescript";
  const manifest = {
    name: options.name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      build: "pwts build",
      test: "pwts build && node --import tsx --test test/*.test.ts",
      // esbuild strips types without checking them, so a TypeScript project type-checks with tsc.
      ...(typescript ? { typecheck: "tsc -p ." } : {}),
    },
    ...(typescript
      ? { dependencies: { "@proxy-wasm-ts/js": options.jsSpec ?? defaultJsSpec(options.dir) } }
      : {}),
    devDependencies: {
      "@proxy-wasm-ts/cli": options.cliSpec,
      "@proxy-wasm-ts/host": options.hostSpec,
      ...(typescript ? {} : { "@proxy-wasm-ts/sdk": options.sdkSpec }),
      tsx: "^4.23.15",
      ...(typescript ? { typescript: "~5.9.3" } : {}),
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
  for (const { source, base } of await templateFor(options.language ?? "assemblyscript")) {
    let target = relative(base, source).slice(0, -SUFFIX.length);
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
