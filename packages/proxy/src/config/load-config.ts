/** Reads an Envoy bootstrap file (YAML or JSON; JSON is YAML) from disk and validates it. */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { parseBootstrap } from "./bootstrap.ts";
import { ConfigError } from "./config-error.ts";
import type { BootstrapConfig } from "./model.ts";

/** Parses bootstrap text; `source` names the file in errors. */
export function parseBootstrapText(text: string, source: string, baseDir: string): BootstrapConfig {
  let document: unknown;
  try {
    // `uniqueKeys` makes a repeated key an error rather than a silent overwrite.
    document = parse(text, { uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    const message = (err as Error).message.split("\n")[0];
    throw new ConfigError("", `${source}: not valid YAML: ${message}`);
  }
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new ConfigError(
      "",
      `${source}: expected a map at the top (an Envoy bootstrap), got ${document === null ? "an empty document" : typeof document}`,
    );
  }
  return parseBootstrap(document, baseDir);
}

export async function loadBootstrap(file: string): Promise<BootstrapConfig> {
  const full = resolve(file);
  let text: string;
  try {
    text = await readFile(full, "utf8");
  } catch (err) {
    throw new ConfigError(
      "",
      `cannot read config ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return parseBootstrapText(text, file, dirname(full));
}
