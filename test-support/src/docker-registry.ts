/**
 * Starts Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a throwaway config and storage,
 * optionally behind htpasswd basic auth, for tests that push and pull real images.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { answers, freePort, startServerProcess } from "./server-process.ts";

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  stop(): Promise<void>;
}

export async function startRegistry(auth?: { username: string; password: string }): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "pwts-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let authSection = "";
  if (auth) {
    await writeFile(join(dir, "htpasswd"), `${auth.username}:${bcrypt.hashSync(auth.password, 5)}\n`);
    authSection = `auth:\n  htpasswd:\n    realm: pwts-test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, "storage")}
  delete:
    enabled: true
http:
  addr: ${host}
${authSection}`;
  await writeFile(join(dir, "config.yml"), config);
  const server = await startServerProcess({
    name: `docker-registry on ${host}`,
    command: "docker-registry",
    args: ["serve", join(dir, "config.yml")],
    dir,
    // /v2/ answers 200 without auth, 401 with.
    ready: answers(`http://${host}/v2/`, (status) => status === 200 || status === 401),
  });
  return { host, stop: server.stop };
}
