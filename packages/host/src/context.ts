/**
 * The state behind one context id: what hostcalls acting on it may see and change. Subclasses are the
 * VM context (id 0, start-up), root contexts, HTTP streams and TCP streams.
 *
 * Hostcalls reach a context only through this class, as proxy-wasm-cpp-host's `ContextBase` (context.h)
 * does: every hostcall target is a method here whose default is what Envoy answers on a context that does
 * not support the call, and the subclasses that do support it override it. The hostcall layer (`abi/`,
 * `envoy/`) thus never tests for a concrete class.
 */
import type { ByteBuffer } from "./byte-buffer.ts";
import {
  encodeProperty,
  lookupProperty,
  type Properties,
  type PropertyPath,
  stateKeyOf,
} from "./envoy/properties.ts";
import type { HeaderMap } from "./header-map.ts";
import type { ProxyWasmHost } from "./host.ts";
import type { RootContext } from "./root-context.ts";
import { type LocalReply, Status, StreamType } from "./types.ts";
import type { Vm } from "./vm.ts";

const EMPTY = new Uint8Array(0);

/** A value a plugin stored with `set_property` or `set_envoy_filter_state`. */
export interface FilterStateEntry {
  value: Uint8Array;
  readonly: boolean;
}

export abstract class Context {
  readonly vm: Vm;
  readonly id: number;
  /** Set once `proxy_on_delete` ran (or the context was dropped): no callback is made after it. */
  deleted = false;
  private filterStateMap: Map<string, FilterStateEntry> | undefined;
  /** What `proxy_get_status` returns (last callout status). */
  statusCode = 0;
  statusMessage: Uint8Array = EMPTY;

  constructor(vm: Vm, id: number) {
    this.vm = vm;
    this.id = id;
  }

  /** Filter state: `wasm.<path>` entries from `set_property`, Envoy keys from `set_envoy_filter_state`. */
  get filterState(): Map<string, FilterStateEntry> {
    // Created on first use: most streams never touch it, and a Map per stream is measurable.
    this.filterStateMap ??= new Map();
    return this.filterStateMap;
  }

  /**
   * Counts the plugin's filter-state writes (`setFilterState`). An embedder that mirrors filter state
   * elsewhere (the network filter copies it to the connection) copies only when this changed, not on
   * every data chunk.
   */
  filterStateVersion = 0;

  /** Stores a filter-state entry (what `set_property` and `set_envoy_filter_state` do). */
  setFilterState(key: string, entry: FilterStateEntry): void {
    this.filterState.set(key, entry);
    this.filterStateVersion++;
  }

  abstract get host(): ProxyWasmHost;
  /** The root context of this context (itself for a root context; null for the VM context). */
  abstract get rootContext(): RootContext | null;

  /** Header map `type` as visible now, or null when unavailable (hostcalls answer BAD_ARGUMENT). */
  getMap(type: number): HeaderMap | null {
    return this.vm.callbackMaps[type] ?? null;
  }

  /** Buffer `type` as visible now, or null when unavailable (hostcalls answer NOT_FOUND). */
  getBuffer(type: number): ByteBuffer | null {
    return this.vm.callbackBuffers[type] ?? null;
  }

  /** Trailers the plugin may add from a body callback at end of stream (Envoy's `addDecodedTrailers`). */
  getMapForWrite(type: number): HeaderMap | null {
    return this.getMap(type);
  }

  /**
   * `proxy_continue_stream`, as Envoy's Context::continueStream answers it for every context: UPSTREAM is
   * UNIMPLEMENTED (Envoy has no way to resume a network filter's held writes), every other type is OK and
   * resumes something only where there is something to resume (an HTTP stream's request or response, a TCP
   * stream's downstream; subclasses do that).
   */
  continueStream(type: number): Status {
    return type === StreamType.Upstream ? Status.Unimplemented : Status.Ok;
  }

  closeStream(_type: number): Status {
    return Status.Unimplemented;
  }

  sendLocalResponse(_reply: LocalReply): Status {
    return Status.BadArgument;
  }

  /**
   * `proxy_done`: only a root context whose shutdown `proxy_on_done` returned false is pending (cpp-host's
   * `pending_done`); on any other context it is NOT_FOUND.
   */
  done(): Status {
    return Status.NotFound;
  }

  /**
   * `clear_route_cache` (foreign function, and ABI v0.1.0's `proxy_clear_route_cache`): Envoy's
   * Context::clearRouteCache does nothing where there is no HTTP route (no decoder callbacks), and the
   * call still answers OK. HTTP streams override it.
   */
  clearRouteCache(): void {}

  /** Properties specific to this context (stream attributes); undefined when not one of them. */
  protected ownProperty(_segments: PropertyPath): Uint8Array | undefined {
    return undefined;
  }

  /** The encoded value of a property path, or undefined (NOT_FOUND). */
  getProperty(segments: PropertyPath): Uint8Array | undefined {
    // Filter state first; most streams have none, and then no key is built.
    const root = this.rootContext;
    const rootState = root && root !== (this as Context) ? root.filterStateMap : undefined;
    if (this.filterStateMap !== undefined || rootState !== undefined) {
      const key = stateKeyOf(segments);
      const stored = this.filterStateMap?.get(key) ?? rootState?.get(key);
      if (stored) return stored.value;
    }
    if (segments[0] === "filter_state" && segments.length === 2)
      return this.filterStateMap?.get(segments[1]!)?.value;
    const own = this.ownProperty(segments);
    if (own !== undefined) return own;
    if (root) {
      const fromRoot = root.pluginProperty(segments);
      if (fromRoot !== undefined) return fromRoot;
    }
    const v = lookupProperty(this.host.nodeProperties, segments);
    return v === undefined ? undefined : encodeProperty(v);
  }

  /** `proxy_set_property`: stores under `wasm.` + path (Envoy's CelState prefix). */
  setProperty(segments: PropertyPath, value: Uint8Array): Status {
    const key = stateKeyOf(segments);
    const existing = this.filterState.get(key);
    if (existing?.readonly) return Status.BadArgument;
    const declared = this.rootContext?.declaredProperties.get(segments.join("."));
    this.setFilterState(key, { value: value.slice(), readonly: declared?.readonly ?? false });
    return Status.Ok;
  }
}

/** Looks up `segments` in `bag` and encodes the value; undefined when absent. */
export function encodedLookup(bag: Properties | undefined, segments: PropertyPath): Uint8Array | undefined {
  const v = lookupProperty(bag, segments);
  return v === undefined ? undefined : encodeProperty(v);
}

/** Context id 0: what hostcalls see outside any callback (module start-up, `_initialize`, `main`). */
export class VmContext extends Context {
  private readonly owner: ProxyWasmHost;
  constructor(vm: Vm, host: ProxyWasmHost) {
    super(vm, 0);
    this.owner = host;
  }
  override get host(): ProxyWasmHost {
    return this.owner;
  }
  override get rootContext(): RootContext | null {
    return null;
  }
}
