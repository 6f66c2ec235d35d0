/**
 * Which listeners a configuration reload touches. Listeners are compared by their configuration as written
 * (the document's `static_resources.listeners[i]`), the way Envoy compares a listener's new config hash with
 * the old one (listener_manager_impl.cc ListenerManagerImpl::addOrUpdateListenerInternal: when blockUpdate(hash)
 * says the hash is the same, "duplicate/locked listener '{}'. no add/update"). The code a Wasm filter names is not part of the text: a rebuilt `.wasm`
 * reaches its filters through their plugin slots instead.
 */
import { isDeepStrictEqual } from "node:util";
import { ConfigError } from "./config/config-error.ts";
import type { BootstrapConfig, ListenerConfig } from "./config/model.ts";

export interface ListenerReloadPlan {
  unchanged: string[];
  replaced: ListenerConfig[];
  added: ListenerConfig[];
  removed: string[];
}

type Document = Record<string, unknown> & { static_resources?: Record<string, unknown> };

function rawListener(config: BootstrapConfig, l: ListenerConfig): unknown {
  const index = /^static_resources\.listeners\[(\d+)\]$/.exec(l.path)?.[1];
  const listeners = (config.document as Document).static_resources?.listeners;
  return index !== undefined && Array.isArray(listeners) ? listeners[Number(index)] : l.path;
}

/** The document without its listeners: what must not change for a listener-only reload. */
function withoutListeners(document: unknown): unknown {
  const { static_resources: sr, ...rest } = document as Document;
  if (sr === undefined) return rest;
  const { listeners: _l, ...resources } = sr;
  return { ...rest, static_resources: resources };
}

/** First top-level section (or static_resources.clusters) that differs, for the refusal's message. */
function changedSection(a: unknown, b: unknown): string {
  const x = withoutListeners(a) as Record<string, unknown>;
  const y = withoutListeners(b) as Record<string, unknown>;
  for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
    if (isDeepStrictEqual(x[key], y[key])) continue;
    if (key !== "static_resources") return key;
    const xr = (x[key] ?? {}) as Record<string, unknown>;
    const yr = (y[key] ?? {}) as Record<string, unknown>;
    for (const k of new Set([...Object.keys(xr), ...Object.keys(yr)]))
      if (!isDeepStrictEqual(xr[k], yr[k])) return `static_resources.${k}`;
  }
  return "static_resources";
}

/** Plans a reload from `current` to `next`; throws ConfigError when more than listeners changed. */
export function planListenerReload(current: BootstrapConfig, next: BootstrapConfig): ListenerReloadPlan {
  if (!isDeepStrictEqual(withoutListeners(current.document), withoutListeners(next.document))) {
    const section = changedSection(current.document, next.document);
    throw new ConfigError(
      section,
      "changed: only listeners reload while running; restart to apply this change",
    );
  }
  const before = new Map(current.listeners.map((l) => [l.name, l]));
  const plan: ListenerReloadPlan = { unchanged: [], replaced: [], added: [], removed: [] };
  for (const l of next.listeners) {
    const old = before.get(l.name);
    before.delete(l.name);
    if (!old) plan.added.push(l);
    else if (isDeepStrictEqual(rawListener(current, old), rawListener(next, l))) plan.unchanged.push(l.name);
    else plan.replaced.push(l);
  }
  plan.removed = [...before.keys()];
  return plan;
}
