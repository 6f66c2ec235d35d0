// The Debian packages that server-backed tests need (.ci/apt-packages: a registry, ClickHouse, Chromium,
// skopeo, curl, openssl). `npm test` calls `ensureTestPrerequisites()` before any test runs: what is missing
// is installed with apt-get when this user may (root, or sudo without a password); otherwise the run stops
// with one line naming the packages and the command that installs them. Never a wall of failures, never a
// silent skip.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
export const PACKAGE_LIST = ".ci/apt-packages";

/** `{ name, command }` for each line of .ci/apt-packages. */
export function requiredPackages() {
  return readFileSync(join(root, PACKAGE_LIST), "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean)
    .map((line) => {
      const [name, command = name] = line.split(/\s+/);
      return { name, command };
    });
}

function onPath(command) {
  return spawnSync("sh", ["-c", `command -v "$0"`, command], { stdio: "ignore" }).status === 0;
}

/** How this process may run apt-get, or undefined when it may not. */
function aptRunner() {
  if (!onPath("apt-get")) return undefined;
  if (process.getuid?.() === 0) return [];
  if (onPath("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0)
    return ["sudo", "-n"];
  return undefined;
}

function apt(prefix, args) {
  // Another apt run (a second `npm test`, unattended upgrades) holds the lock for a while: wait, don't fail.
  const [cmd, ...rest] = [...prefix, "apt-get", "-o", "DPkg::Lock::Timeout=600", ...args];
  return spawnSync(cmd, rest, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  }).status;
}

/** Installs or reports missing packages; returns false when the tests must not start. */
export function ensureTestPrerequisites(log = (line) => process.stderr.write(`${line}\n`)) {
  const missing = requiredPackages().filter((p) => !onPath(p.command));
  if (missing.length === 0) return true;
  const names = missing.map((p) => p.name).join(" ");
  const installHint = `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${names}`;
  const runner = process.env.PWTS_NO_APT ? undefined : aptRunner();
  if (!runner) {
    log(`npm test: missing Debian packages the tests need: ${names}; install them with: ${installHint}`);
    return false;
  }
  log(`npm test: installing Debian packages the tests need (${PACKAGE_LIST}): ${names}`);
  const status =
    apt(runner, ["update", "-qq"]) ||
    apt(runner, ["install", "-y", "-qq", "--no-install-recommends", ...missing.map((p) => p.name)]);
  const still = missing.filter((p) => !onPath(p.command));
  if (status !== 0 || still.length > 0) {
    log(
      `npm test: apt-get could not install ${still.map((p) => p.name).join(" ") || names}; install them with: ${installHint}`,
    );
    return false;
  }
  return true;
}
