/**
 * One TCP connection through one network plugin: a stream context whose downstream (client -> proxy) and
 * upstream (proxy -> backend) data flow through `proxy_on_downstream_data` / `proxy_on_upstream_data`.
 * Pause holds data (the next call shows the whole held buffer); `drain*` returns bytes released for
 * forwarding. The upstream cluster a plugin chose with `set_envoy_filter_state("envoy.tcp_proxy.cluster")`
 * is `upstreamCluster`. FAIL_CLOSED closes the connection; FAIL_OPEN passes data through.
 */
import { ByteBuffer } from "./byte-buffer.ts";
import { ownedBytes, utf8String } from "./bytes.ts";
import type { Properties } from "./envoy/properties.ts";
import type { Plugin, PluginHealth } from "./plugin.ts";
import { StreamContext } from "./stream-context.ts";
import { Action, BufferType, type BytesInput, PeerType, Status, StreamType } from "./types.ts";
import { CALL_FAILED } from "./vm.ts";

/** Notifications from a TCP stream to its embedder. All optional. */
export interface TcpStreamEvents {
  /** The plugin resumed held downstream data (`proxy_continue_stream(DOWNSTREAM)`). */
  onResumeDownstream?(): void;
  // No upstream counterpart: Envoy cannot resume held upstream data (proxy_continue_stream(UPSTREAM) is
  // UNIMPLEMENTED); the next upstream chunk shows the plugin the whole held buffer again.
  /** The plugin closed a side (`proxy_close_stream`), or FAIL_CLOSED closed the connection. */
  onClose?(side: "downstream" | "upstream"): void;
}

export interface TcpStreamOptions {
  /** Connection attributes: `source.address`, `destination.address`, `connection.*`, ... */
  properties?: Properties;
  events?: TcpStreamEvents;
}

class Side {
  readonly data = new ByteBuffer();
  readonly released = new ByteBuffer();
  paused = false;
  closed = false;
}

export class TcpStream extends StreamContext<TcpStreamEvents> {
  readonly downstream = new Side();
  readonly upstream = new Side();
  /** Set when the connection was closed by the plugin or by FAIL_CLOSED. */
  closedBy: "plugin" | "failure" | null = null;

  constructor(plugin: Plugin, health: PluginHealth, options: TcpStreamOptions) {
    super(plugin, health, options);
    this.open();
    // A connection opened on a FAIL_CLOSED plugin closes at once (an HTTP stream answers its first phase).
    if (health === "fail-closed") this.onCallFailure();
  }

  /**
   * True once `newConnection()` ran: Envoy creates the VM context in Context::onNewConnection (onCreate),
   * and its onData / onWrite / onEvent return Continue without entering the VM until then (context.cc,
   * `in_vm_context_created_`).
   */
  started = false;

  /** Envoy ends a connection with onDone, onLog, onDelete (context.cc Context::onCloseTCP). */
  protected override get doneBeforeLog(): boolean {
    return true;
  }

  /** The cluster chosen with `set_envoy_filter_state("envoy.tcp_proxy.cluster", ...)`, if any. */
  get upstreamCluster(): string | undefined {
    const entry = this.filterState.get("envoy.tcp_proxy.cluster");
    return entry ? utf8String(entry.value) : undefined;
  }

  /** The connection was accepted (`proxy_on_new_connection`). */
  newConnection(): Action {
    this.started = true;
    if (!this.usable) return this.bypass(null);
    const r = this.vm.invoke(
      this,
      "proxy_on_new_connection",
      this.vm.exports.proxy_on_new_connection,
      this.id,
    );
    if (r === CALL_FAILED) return this.onCallFailure();
    return r === 0 ? Action.Continue : Action.Pause;
  }

  /** Bytes from the client (`proxy_on_downstream_data`); `chunk` is copied. */
  downstreamData(chunk: BytesInput, endOfStream = false): Action {
    return this.feed(this.downstream, ownedBytes(chunk), endOfStream, true);
  }

  /** Bytes from the backend (`proxy_on_upstream_data`); `chunk` is copied. */
  upstreamData(chunk: BytesInput, endOfStream = false): Action {
    return this.feed(this.upstream, ownedBytes(chunk), endOfStream, false);
  }

  /**
   * `downstreamData` for a chunk the caller hands over (a socket's freshly read Buffer): no copy. When the
   * plugin lets it through and nothing was held, `drainDownstream()` returns this same array. The caller
   * must not change it afterwards.
   */
  downstreamDataOwned(chunk: Uint8Array, endOfStream = false): Action {
    return this.feed(this.downstream, chunk, endOfStream, true);
  }

  /** `upstreamData` for a chunk the caller hands over (see `downstreamDataOwned`). */
  upstreamDataOwned(chunk: Uint8Array, endOfStream = false): Action {
    return this.feed(this.upstream, chunk, endOfStream, false);
  }

  /** The client side closed (`proxy_on_downstream_connection_close`). */
  downstreamClose(peer: PeerType = PeerType.Remote): void {
    this.downstream.closed = true;
    if (!this.usable || !this.started) return;
    this.vm.invoke(
      this,
      "proxy_on_downstream_connection_close",
      this.vm.exports.proxy_on_downstream_connection_close,
      this.id,
      peer,
    );
  }

  /** The backend side closed (`proxy_on_upstream_connection_close`). */
  upstreamClose(peer: PeerType = PeerType.Remote): void {
    this.upstream.closed = true;
    if (!this.usable || !this.started) return;
    this.vm.invoke(
      this,
      "proxy_on_upstream_connection_close",
      this.vm.exports.proxy_on_upstream_connection_close,
      this.id,
      peer,
    );
  }

  /** Downstream bytes released for forwarding upstream since the last drain. */
  drainDownstream(): Uint8Array {
    return this.downstream.released.take();
  }

  /** Upstream bytes released for forwarding downstream since the last drain. */
  drainUpstream(): Uint8Array {
    return this.upstream.released.take();
  }

  /** FAIL_CLOSED closes the connection from the client side, once. */
  protected failClosed(): void {
    if (this.closedBy) return;
    this.closedBy = "failure";
    this.events.onClose?.("downstream");
  }

  private bypass(side: Side | null): Action {
    if (this.mode === "fail-open") {
      if (side) side.released.appendOwned(side.data.take());
      return Action.Continue;
    }
    return this.onCallFailure();
  }

  private feed(side: Side, chunk: Uint8Array, endOfStream: boolean, isDownstream: boolean): Action {
    if (!this.started || this.completed) {
      side.released.appendOwned(chunk);
      return Action.Continue;
    }
    side.data.appendOwned(chunk);
    if (!this.usable) return this.bypass(side);
    const vm = this.vm;
    const size = side.data.length;
    const r = isDownstream
      ? vm.invoke(
          this,
          "proxy_on_downstream_data",
          vm.exports.proxy_on_downstream_data,
          this.id,
          size,
          +endOfStream,
        )
      : vm.invoke(
          this,
          "proxy_on_upstream_data",
          vm.exports.proxy_on_upstream_data,
          this.id,
          size,
          +endOfStream,
        );
    if (r === CALL_FAILED) return this.onCallFailure();
    if (r !== 0) {
      side.paused = true;
      return Action.Pause;
    }
    side.paused = false;
    side.released.appendOwned(side.data.take());
    return Action.Continue;
  }

  override getBuffer(type: number): ByteBuffer | null {
    if (type === BufferType.DownstreamData) return this.downstream.data;
    if (type === BufferType.UpstreamData) return this.upstream.data;
    if (type === BufferType.HttpRequestBody || type === BufferType.HttpResponseBody) return null;
    return super.getBuffer(type);
  }

  /**
   * Only the downstream (read) side can be resumed, as in Envoy: held upstream data waits for the next
   * upstream chunk, when the plugin sees the whole held buffer again (UPSTREAM is UNIMPLEMENTED).
   */
  override continueStream(type: number): Status {
    if (type !== StreamType.Downstream) return super.continueStream(type);
    const side = this.downstream;
    this.vm.post(() => {
      if (!side.paused) return;
      side.paused = false;
      side.released.appendOwned(side.data.take());
      this.events.onResumeDownstream?.();
    });
    return Status.Ok;
  }

  override closeStream(type: number): Status {
    if (type !== StreamType.Downstream && type !== StreamType.Upstream) return Status.Unimplemented;
    const which = type === StreamType.Downstream ? "downstream" : "upstream";
    this.vm.post(() => {
      this.closedBy ??= "plugin";
      this.events.onClose?.(which);
    });
    return Status.Ok;
  }
}
