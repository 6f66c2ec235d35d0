/** Reads an Envoy bootstrap file (YAML or JSON; JSON is YAML) from disk and validates it. */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseDocument, visit } from "yaml";
import { parseBootstrap } from "./bootstrap.ts";
import { ConfigError } from "./config-error.ts";
import type { BootstrapConfig } from "./model.ts";

const YAML_CPP_BOOL = /^(?:[yYnN]|[Yy]es|YES|[Nn]o|NO|[Tt]rue|TRUE|[Ff]alse|FALSE|[Oo]n|ON|[Oo]ff|OFF)$/;
const YAML_CPP_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);

/**
 * YAML as Envoy reads it with yaml-cpp (protobuf utility.cc parseYamlNode): a plain (unquoted) scalar value
 * that yaml-cpp's convert<bool>::decode takes is a boolean — y/n, yes/no, true/false, on/off in lower case,
 * capitalised or upper case (IsFlexibleCase), YAML 1.1's booleans — where the yaml package's core schema
 * knows only true/false. Map keys stay the text they are (parseYamlNode reads them with as<std::string>()),
 * and the rest of the core schema (null, integers, floats) already reads as yaml-cpp does.
 */
function parseAsYamlCpp(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) throw doc.errors[0];
  visit(doc, {
    Scalar(key, node) {
      if (key === "key" || node.type !== "PLAIN" || typeof node.value !== "string") return;
      if (YAML_CPP_BOOL.test(node.value)) node.value = YAML_CPP_TRUE.has(node.value);
    },
  });
  return doc.toJS();
}

/** Parses bootstrap text; `source` names the file in errors. */
export function parseBootstrapText(text: string, source: string, baseDir: string): BootstrapConfig {
  let document: unknown;
  try {
    // `uniqueKeys` makes a repeated key an error rather than a silent overwrite.
    document = parseAsYamlCpp(text);
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
