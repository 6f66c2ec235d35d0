/**
 * Which context the host applies stream hostcalls to. A callback runs with its own context in effect;
 * code that resumes after an `await` may belong to another stream, so stream methods switch first
 * (`proxy_set_effective_context`) when needed.
 */

import { hostcall } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";

let effective = 0;

/** The host just entered a callback of context `id`. */
export function enteredContext(id: number): void {
  effective = id;
}

/** Makes `id` the effective context unless it already is. */
export function useContext(id: number): void {
  if (effective === id) return;
  hostcall(HostOp.SetEffectiveContext, id);
  effective = id;
}
