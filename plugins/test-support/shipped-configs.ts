/** Checks of what a plugin ships: `pwts validate` (the ship library) on its files, and its README examples. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatProblem, validateConfigFiles } from "@proxy-wasm-ts/ship";

export const SHIPPED_CONFIGS = ["envoy.yaml", "docker-compose.yaml", "wasmplugin.yaml"] as const;

/** The errors `pwts validate` finds in the files the plugin ships, as lines; none when they are valid. */
export async function shippedConfigErrors(pluginDir: string): Promise<string[]> {
  const problems = await validateConfigFiles(SHIPPED_CONFIGS.map((file) => join(pluginDir, file)));
  return problems.filter((p) => p.severity === "error").map(formatProblem);
}

/** The ```json blocks of the plugin's README.md (its configuration examples), as text. */
export async function readmeJsonExamples(pluginDir: string): Promise<string[]> {
  const readme = await readFile(join(pluginDir, "README.md"), "utf8");
  return [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
}
