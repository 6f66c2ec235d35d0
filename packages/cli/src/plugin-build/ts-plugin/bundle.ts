/**
 * Bundles a TypeScript plugin with its npm dependencies into one script (esbuild), with a source map
 * so errors can name the .ts sources. Build errors name the file, line and column.
 */
import { relative, resolve } from "node:path";
import { build, type Message } from "esbuild";
import { UserError } from "../../user-error.ts";

export interface Bundle {
  code: string;
  /** The source map (JSON), its sources relative to the plugin directory. */
  sourceMap: string;
}

/** QuickJS-NG implements ES2023 (and more); esbuild lowers anything newer. */
const TARGET = "es2023";

function formatMessage(pluginDir: string, message: Message): string {
  const where = message.location;
  if (!where) return `error: ${message.text}`;
  // esbuild reports paths relative to its working directory (the plugin's).
  const file = relative(pluginDir, resolve(pluginDir, where.file)) || where.file;
  return `${file}:${where.line}:${where.column + 1}: error: ${message.text}\n    ${where.lineText}`;
}

/**
 * Bundles `entry` (relative to `pluginDir`); throws UserError with esbuild's located diagnostics. `inject`
 * files provide globals the engine lacks, bundled only where the plugin uses them.
 */
export async function bundlePlugin(
  pluginDir: string,
  entry: string,
  filename: string,
  inject: string[] = [],
): Promise<Bundle> {
  try {
    const result = await build({
      absWorkingDir: pluginDir,
      entryPoints: [entry],
      bundle: true,
      write: false,
      outfile: filename,
      format: "iife",
      platform: "neutral",
      target: TARGET,
      mainFields: ["module", "main"],
      conditions: ["import", "default"],
      sourcemap: "external",
      sourcesContent: false,
      sourceRoot: "",
      legalComments: "none",
      inject,
      logLevel: "silent",
    });
    const code = result.outputFiles.find((file) => file.path.endsWith(".js"));
    const map = result.outputFiles.find((file) => file.path.endsWith(".map"));
    if (!code || !map) throw new Error("esbuild produced no output");
    return { code: code.text, sourceMap: map.text };
  } catch (error) {
    const failure = error as { errors?: Message[] };
    if (Array.isArray(failure.errors) && failure.errors.length > 0) {
      throw new UserError(failure.errors.map((message) => formatMessage(pluginDir, message)).join("\n"));
    }
    throw error;
  }
}
