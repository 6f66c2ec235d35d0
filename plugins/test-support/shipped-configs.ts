/** `pwts validate` (the ship library) on the files a plugin ships; the errors as lines, none when valid. */
import { join } from "node:path";
import { formatProblem, validateConfigFiles } from "@proxy-wasm-ts/ship";

export const SHIPPED_CONFIGS = ["envoy.yaml", "docker-compose.yaml", "wasmplugin.yaml"] as const;

export async function shippedConfigErrors(pluginDir: string): Promise<string[]> {
  const problems = await validateConfigFiles(SHIPPED_CONFIGS.map((file) => join(pluginDir, file)));
  return problems.filter((p) => p.severity === "error").map(formatProblem);
}
