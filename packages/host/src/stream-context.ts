/**
 * What an HTTP stream and a TCP stream share as per-stream contexts of one plugin: creation under the
 * plugin's root context, the failure policy's mode, and the end of the stream (`proxy_on_log`,
 * `proxy_on_done`, `proxy_on_delete`, in Envoy's order; the context is never called after it). What a
 * failure closes (a 503 local reply, the connection) is the subclass's.
 */
import { Context, encodedLookup } from "./context.ts";
import type { Properties } from "./envoy/properties.ts";
import type { ProxyWasmHost } from "./host.ts";
import type { Plugin, PluginHealth } from "./plugin.ts";
import type { RootContext } from "./root-context.ts";
import { Action } from "./types.ts";

export abstract class StreamContext<Events extends object> extends Context {
  readonly plugin: Plugin;
  readonly root: RootContext;
  /** Stream attributes: `source.address`, `destination.address`, `connection.*`, ... */
  readonly properties: Properties;
  readonly events: Events;
  /** How the failure policy applies to this stream ("ok" = the plugin runs). */
  mode: PluginHealth;
  completed = false;

  constructor(
    plugin: Plugin,
    health: PluginHealth,
    options: { properties?: Properties | undefined; events?: Events | undefined },
  ) {
    const root = plugin.root;
    super(root.vm, root.vm.allocateContextId());
    this.plugin = plugin;
    this.root = root;
    this.mode = health;
    this.properties = options.properties ?? {};
    this.events = options.events ?? ({} as Events);
  }

  /**
   * `proxy_on_context_create`. Called by the subclass at the end of its constructor, once its own fields
   * exist: the plugin may already make hostcalls on the new context from that callback.
   */
  protected open(): void {
    if (this.mode !== "ok") return;
    const vm = this.vm;
    vm.contexts.set(this.id, this);
    vm.invoke(this, "proxy_on_context_create", vm.exports.proxy_on_context_create, this.id, this.root.id);
    if (vm.failed) this.onCallFailure();
  }

  override get host(): ProxyWasmHost {
    return this.plugin.host;
  }

  override get rootContext(): RootContext {
    return this.root;
  }

  /**
   * The stream ended: `proxy_on_log` (access-log phase), then `proxy_on_done` and `proxy_on_delete`, as
   * Envoy runs them for HTTP (its filter destroy ignores the result of `proxy_on_done` for stream contexts);
   * a TCP connection runs `proxy_on_done` first (see `doneBeforeLog`).
   */
  complete(): void {
    if (this.completed) return;
    if (!this.usable || this.vm.failed) {
      this.finish();
      return;
    }
    const vm = this.vm;
    if (this.doneBeforeLog) {
      vm.invoke(this, "proxy_on_done", vm.exports.proxy_on_done, this.id);
      this.runLog();
    } else {
      this.runLog();
      vm.invoke(this, "proxy_on_done", vm.exports.proxy_on_done, this.id);
    }
    vm.invoke(this, "proxy_on_delete", vm.exports.proxy_on_delete, this.id);
    this.finish();
  }

  /** True where Envoy runs `proxy_on_done` before `proxy_on_log` (a TCP connection's end). */
  protected get doneBeforeLog(): boolean {
    return false;
  }

  /** `proxy_on_log`; HTTP narrows what the plugin sees around it. */
  protected runLog(): void {
    this.vm.invoke(this, "proxy_on_log", this.vm.exports.proxy_on_log, this.id);
  }

  private finish(): void {
    this.completed = true;
    this.deleted = true;
    this.vm.contexts.delete(this.id);
  }

  protected get usable(): boolean {
    return !this.deleted && this.mode === "ok";
  }

  /**
   * Applies the failure policy to a call that failed (or a stream opened on a failed VM): FAIL_OPEN lets
   * everything through from now on, FAIL_CLOSED ends the stream (`failClosed`) and holds it.
   */
  protected onCallFailure(): Action {
    if (this.mode === "ok")
      this.mode = this.plugin.config.failurePolicy === "FAIL_OPEN" ? "fail-open" : "fail-closed";
    if (this.mode === "fail-open") return Action.Continue;
    this.failClosed();
    return Action.Pause;
  }

  /** FAIL_CLOSED's end of the stream; called each time a call fails, so it must be idempotent. */
  protected abstract failClosed(): void;

  protected override ownProperty(segments: readonly string[]): Uint8Array | undefined {
    return encodedLookup(this.properties, segments);
  }
}
