/** Reads an Envoy bootstrap file (YAML or JSON; JSON is YAML) from disk and validates it. */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { parseBootstrap } from "./bootstrap.ts";
import { ConfigError } from "./config-error.ts";
import type { BootstrapConfig } from "./model.ts";

const YAML_BOOL = "tag:yaml.org,2002:bool";
const YAML_CPP_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);

/**
 * Envoy reads YAML with yaml-cpp and turns a plain scalar into a boolean when yaml-cpp's convert<bool>::decode
 * takes it (protobuf utility.cc parseYamlNode): y/n, yes/no, true/false, on/off in lower case, capitalised or
 * upper case (IsFlexibleCase), YAML 1.1's booleans; quoted ones stay strings. The yaml package's core schema
 * knows only true/false, so its boolean tag is replaced by this one; the rest of the schema (null, integers,
 * floats) already reads as yaml-cpp does.
 */
const yamlCppBool = {
  identify: (value: unknown) => typeof value === "boolean",
  default: true,
  tag: YAML_BOOL,
  test: /^(?:[yYnN]|[Yy]es|YES|[Nn]o|NO|[Tt]rue|TRUE|[Ff]alse|FALSE|[Oo]n|ON|[Oo]ff|OFF)$/,
  resolve: (text: string) => YAML_CPP_TRUE.has(text),
};

/** Parses bootstrap text; `source` names the file in errors. */
export function parseBootstrapText(text: string, source: string, baseDir: string): BootstrapConfig {
  let document: unknown;
  try {
    // `uniqueKeys` makes a repeated key an error rather than a silent overwrite.
    document = parse(text, {
      uniqueKeys: true,
      prettyErrors: false,
      customTags: (tags) =>
        tags.map((tag) => (typeof tag === "object" && tag.tag === YAML_BOOL ? yamlCppBool : tag)),
    });
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
