// Bookkeeping shared by the contexts and the dispatcher: which context is current, and which
// context made each outstanding callout (so its response reaches that context).

import { proxy_set_effective_context } from "./abi/imports";
import { BaseContext } from "./context";

let current: u32 = 0;
// Same Map specialization as the dispatcher's context table, so small modules carry one copy.
@lazy const calloutOwners = new Map<u32, BaseContext>();

/** Marks `id` as the context the host is calling into. @internal */
export function enterContext(id: u32): void {
  current = id;
}

/** Makes `id` the host's effective context when it is not already. @internal */
export function ensureEffectiveContext(id: u32): void {
  if (current != id) {
    proxy_set_effective_context(id);
    current = id;
  }
}

/** One outstanding callout of a context; a linked list keeps growable arrays out of small modules. */
export class PendingCallout {
  constructor(
    readonly token: u32,
    public next: PendingCallout | null,
  ) {}
}

/** Remembers that `owner` is waiting for callout `token`. @internal */
export function recordCallout(token: u32, owner: BaseContext): void {
  calloutOwners.set(token, owner);
  owner.pendingCallouts = new PendingCallout(token, owner.pendingCallouts);
}

/** Removes `token` from its owner's pending list. @internal */
export function settleCallout(owner: BaseContext, token: u32): void {
  let previous: PendingCallout | null = null;
  let node = owner.pendingCallouts;
  while (node !== null) {
    if (node.token == token) {
      if (previous === null) owner.pendingCallouts = node.next;
      else previous.next = node.next;
      return;
    }
    previous = node;
    node = node.next;
  }
}

/** The context waiting for `token` (forgotten when `done`), or null when unknown. @internal */
export function calloutOwner(token: u32, done: bool): BaseContext | null {
  if (!calloutOwners.has(token)) return null;
  const owner = calloutOwners.get(token);
  if (done) calloutOwners.delete(token);
  return owner;
}

/** Forgets callout `token` (its owner was deleted; Envoy cancels such calls without calling back). @internal */
export function forgetCallout(token: u32): void {
  calloutOwners.delete(token);
}
