/**
 * `pwts validate CONFIG...`: recognises each file (Envoy bootstrap, docker-compose file, Kubernetes
 * manifests) and runs the matching checks. Returns every problem; callers decide the exit status from
 * the errors (warnings do not fail).
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { parseAllDocuments } from "yaml";
import { validateComposeFile } from "./compose/compose-file.ts";
import type { ConfigProblem } from "./config-problem.ts";
import { validateEnvoyConfig } from "./envoy/envoy-config-validator.ts";
import { validateKubernetesManifests } from "./istio/kubernetes-manifests.ts";
import type { TargetVersions } from "./kubernetes/target-versions.ts";

export type ConfigKind = "envoy" | "compose" | "kubernetes";

/** What a config file is, from its name and top-level keys. */
export function detectConfigKind(file: string, text: string): ConfigKind | undefined {
  const name = basename(file);
  if (/^(docker-)?compose\.ya?ml$/.test(name)) return "compose";
  let first: unknown;
  try {
    first = parseAllDocuments(text)
      .map((d) => d.toJS() as unknown)
      .find((d) => d && typeof d === "object");
  } catch {
    return undefined;
  }
  const top = (first ?? {}) as Record<string, unknown>;
  if (typeof top.apiVersion === "string" && typeof top.kind === "string") return "kubernetes";
  if ("services" in top) return "compose";
  const bootstrapKeys = [
    "static_resources",
    "staticResources",
    "dynamic_resources",
    "admin",
    "node",
    "layered_runtime",
  ];
  if (bootstrapKeys.some((k) => k in top) || /envoy.*\.(ya?ml|json)$/.test(name)) return "envoy";
  return undefined;
}

/** Validates each file (Kubernetes kinds for the given platform versions); unreadable or unrecognised files are errors too. */
export async function validateConfigFiles(
  files: string[],
  versions: TargetVersions = {},
): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      problems.push({
        file,
        path: "(file)",
        message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`,
        severity: "error",
      });
      continue;
    }
    const kind = detectConfigKind(file, text);
    if (kind === "envoy") problems.push(...(await validateEnvoyConfig(file, text)));
    else if (kind === "compose") problems.push(...validateComposeFile(file));
    else if (kind === "kubernetes")
      problems.push(...(await validateKubernetesManifests(file, text, versions)));
    else {
      problems.push({
        file,
        path: "(file)",
        message: "not recognised as an Envoy bootstrap, a docker-compose file or Kubernetes manifests",
        severity: "error",
      });
    }
  }
  return problems;
}
