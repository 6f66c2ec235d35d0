/**
 * `pwts validate` for Envoy bootstraps: YAML/JSON → Envoy's v3 `Bootstrap` message (structure, types,
 * enums, durations, `Any`/TypedStruct contents, unknown fields) → protoc-gen-validate rules → semantic
 * checks. Schema-level, not Envoy's own `--mode validate`: no Envoy binary runs here (deploy.md §1).
 */
import { dirname } from "node:path";
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { parseDocument } from "yaml";
import { composeBindMounts, composeFileNextTo } from "../compose/compose-file.ts";
import type { ConfigProblem } from "../config-problem.ts";
import { envoyRegistry } from "./envoy-descriptor.ts";
import { checkEnvoySemantics } from "./envoy-semantics.ts";
import { checkPgvRules } from "./pgv-rules.ts";
import { checkProtoJson } from "./proto-json-check.ts";
import { wrapSingleRepeatedValues } from "./repeated-single-values.ts";

const bootstrapType = "envoy.config.bootstrap.v3.Bootstrap";

/** Validates Envoy bootstrap text; `file` names it in problems and anchors relative paths. */
export async function validateEnvoyConfig(file: string, text: string): Promise<ConfigProblem[]> {
  const problem = (
    path: string,
    message: string,
    severity: ConfigProblem["severity"] = "error",
  ): ConfigProblem => ({
    file,
    path,
    message,
    severity,
  });
  // Merge keys (`<<: *defaults`) are common in Envoy configs; YAML 1.2 only honours them when asked.
  const doc = parseDocument(text, { prettyErrors: true, merge: true });
  if (doc.errors.length) return doc.errors.map((e) => problem("(root)", `not valid YAML: ${e.message}`));
  const registry = await envoyRegistry();
  const bootstrap = registry.getMessage(bootstrapType);
  if (!bootstrap) throw new Error(`descriptor set lacks ${bootstrapType}`);
  // As Envoy does, a single value stands for a one-item list (`listeners:` given as one map).
  const json = wrapSingleRepeatedValues(bootstrap, doc.toJS(), registry);
  const structural = checkProtoJson(bootstrap, json, registry);
  if (structural.length) return structural.map((p) => problem(p.path, p.message));

  const message = fromJson(bootstrap, json as JsonValue, { registry });
  const canonical = toJson(bootstrap, message, { registry, useProtoFieldName: true }) as Record<
    string,
    unknown
  >;
  const problems = checkPgvRules(bootstrap, canonical, registry).map((p) =>
    problem(p.path, p.message, p.severity ?? "error"),
  );

  const composeFile = composeFileNextTo(file);
  let mounts: ReturnType<typeof composeBindMounts> = [];
  if (composeFile) {
    try {
      mounts = composeBindMounts(composeFile);
    } catch {
      // a broken compose file is reported when it is validated itself
    }
  }
  for (const p of checkEnvoySemantics(canonical, { configDir: dirname(file), mounts })) {
    problems.push(problem(p.path, p.message, p.severity));
  }
  return problems;
}
