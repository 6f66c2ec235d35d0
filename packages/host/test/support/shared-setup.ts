/**
 * Named cases sharing one setup, like the Go SDK's `t.Run(name)` under one test: called in a `describe`,
 * runs `setup` once before its cases and gives back what it made (filled in by then).
 */
import { before } from "node:test";

export function shared<T extends object>(setup: () => Promise<T>): T {
  const made = {} as T;
  before(async () => {
    Object.assign(made, await setup());
  });
  return made;
}
