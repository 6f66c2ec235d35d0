/**
 * `npm start` as a newcomer runs it: start it, wait until it says it is ready, perform every walkthrough step
 * of the README and check the output the README promises, then Ctrl-C and check that everything stopped.
 */
import assert from "node:assert/strict";
import { type ChildProcess, exec, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { missingExpectedLine, readmeWalkthrough } from "../readme-walkthrough.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(exec);

interface Started {
  child: ChildProcess;
  output: () => string;
  /** Exit code, or the signal that ended npm (npm re-raises a SIGINT it received, as a shell's Ctrl-C does). */
  exited: Promise<number | NodeJS.Signals | null>;
}

function startNpm(args: string[] = []): Started {
  // detached: a process group of its own, so a SIGINT reaches npm and the node under it, as Ctrl-C does.
  const child = spawn("npm", ["start", "--silent", ...(args.length ? ["--", ...args] : [])], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (d) => {
    text += d;
  });
  child.stderr!.on("data", (d) => {
    text += d;
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal)),
  );
  return { child, output: () => text, exited };
}

async function waitFor(started: Started, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(started.output())) {
    if (started.child.exitCode !== null) {
      throw new Error(`npm start exited (${started.child.exitCode}) before ${pattern}:\n${started.output()}`);
    }
    if (Date.now() > deadline)
      throw new Error(`npm start did not print ${pattern} in time:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const running: Started[] = [];
after(() => {
  for (const s of running) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
    try {
      process.kill(-s.child.pid!, "SIGKILL");
    } catch {
      // the group is gone already
    }
  }
});

test("npm start runs every README walkthrough step with the promised output, and Ctrl-C stops it", {
  timeout: 600_000,
}, async () => {
  const steps = readmeWalkthrough(await readFile(`${root}README.md`, "utf8"));
  assert.ok(steps.length >= 8, `the README walkthrough has ${steps.length} steps`);

  const demo = startNpm();
  running.push(demo);
  try {
    await waitFor(demo, /^READY/m, 420_000);

    for (const step of steps) {
      for (const command of step.command.split("\n")) {
        assert.ok(demo.output().includes(command), `npm start does not print the README command: ${command}`);
      }
      const { stdout } = await run(step.command, { cwd: root, shell: "/bin/bash", timeout: 30_000 });
      const missing = missingExpectedLine(stdout, step.expected);
      assert.equal(
        missing,
        undefined,
        `${step.heading}: "${missing}" not in the output of\n${step.command}\n---\n${stdout}`,
      );
    }
  } catch (err) {
    // A failed step must not leave the demo holding its ports for the next test.
    process.kill(-demo.child.pid!, "SIGKILL");
    await demo.exited;
    throw err;
  }
  process.kill(-demo.child.pid!, "SIGINT");
  const ended = await demo.exited;
  assert.ok(ended === 0 || ended === "SIGINT", `npm start ended with ${ended}:\n${demo.output()}`);
  // The demo itself stopped every part before exiting.
  assert.match(demo.output(), /^SIGINT: stopping$/m);
  assert.match(demo.output(), /^stopped$/m);
  // Everything let go of its port: the tcp-routing listener can be bound again.
  const probe = createServer();
  await new Promise<void>((resolve, reject) =>
    probe.once("error", reject).listen(10000, "127.0.0.1", resolve),
  );
  await new Promise((r) => probe.close(r));
});

test("a port in use stops npm start with one line naming it and how to move the demo", {
  timeout: 300_000,
}, async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(8080, "127.0.0.21", resolve));
  try {
    const demo = startNpm();
    running.push(demo);
    assert.equal(await demo.exited, 1);
    assert.match(demo.output(), /127\.0\.0\.21:8080 \(echo egress-router1\) is already in use/);
    assert.match(demo.output(), /--port-offset/);
    assert.doesNotMatch(demo.output(), /\n\s+at /, "no stack trace");
  } finally {
    await new Promise((r) => blocker.close(r));
  }
});
