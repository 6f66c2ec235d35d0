/**
 * Where registry credentials come from, first match wins: explicit username/password, the
 * `PWTS_REGISTRY_USERNAME`/`PWTS_REGISTRY_PASSWORD` environment variables, or the `auths` entry for the
 * registry in Docker's config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, as `docker login`
 * and `oras login` write it). Credential helpers (`credsStore`) are not run.
 */

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { PwtsError } from "@proxy-wasm-ts/errors";
import type { RegistryCredentials } from "./registry-auth.ts";

export function resolveCredentials(
  registry: string,
  explicit: { username?: string; password?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): RegistryCredentials | undefined {
  const username = explicit.username ?? env.PWTS_REGISTRY_USERNAME;
  const password = explicit.password ?? env.PWTS_REGISTRY_PASSWORD;
  if (username !== undefined || password !== undefined) {
    if (!username)
      throw new PwtsError(
        "PWTS_ERR_REGISTRY_CREDENTIALS",
        "a registry password was given without a username (--username)",
      );
    if (password === undefined) {
      throw new PwtsError(
        "PWTS_ERR_REGISTRY_CREDENTIALS",
        `no password for registry user ${username} (--password-stdin or PWTS_REGISTRY_PASSWORD)`,
      );
    }
    return { username, password };
  }
  return dockerConfigCredentials(registry, env);
}

function dockerConfigCredentials(registry: string, env: NodeJS.ProcessEnv): RegistryCredentials | undefined {
  const file = join(env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    config = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined; // no docker config: anonymous access
  }
  const entry =
    config.auths?.[registry] ?? config.auths?.[`https://${registry}`] ?? config.auths?.[`http://${registry}`];
  if (!entry) return undefined;
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0)
    throw new PwtsError(
      "PWTS_ERR_REGISTRY_CREDENTIALS",
      `${file}: auths["${registry}"].auth is not base64 of user:password`,
    );
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
