/** Runs `pwts validate` (the ship library) on the files a plugin ships; returns the errors as lines. */
import { join } from "node:path";
import { formatProblem, validateConfigFiles } from "@proxy-wasm-ts/ship";

export const SHIPPED_CONFIGS = ["envoy.yaml", "docker-compose.yaml", "wasmplugin.yaml"] as const;

export async function shippedConfigErrors(pluginDir: string): Promise<string[]> {
  const problems = await validateConfigFiles(SHIPPED_CONFIGS.map((f) => join(pluginDir, f)));
  return problems.filter((p) => p.severity === "error").map(formatProblem);
}
