/**
 * An `envoy.filters.network.wasm` filter instance for one connection: adapts the TCP session's filter
 * contract to the host's TcpStream. Filter state the plugin sets (e.g. `envoy.tcp_proxy.cluster`) is
 * copied to the connection so tcp_proxy sees it.
 */
import { Action, PeerType, type Plugin, type TcpStream, type TcpStreamEvents } from "@proxy-wasm-ts/host";
import type { BodyBuffer, FilterStatus } from "../http/http-filter.ts";
import type { NetworkFilter, NetworkFilterCallbacks, PeerType as Peer } from "../tcp/network-filter.ts";
import { drainedBuffer } from "./drained-buffer.ts";
import { streamProperties } from "./stream-properties.ts";

/** Also the host stream's event handler (methods, not per-connection closures). */
export class WasmNetworkFilter implements NetworkFilter, TcpStreamEvents {
  private readonly stream: TcpStream;
  private done = false;
  /** The plugin's filter-state writes already copied to the connection (`Context.filterStateVersion`). */
  private copiedState = 0;

  constructor(
    plugin: Plugin,
    private readonly cb: NetworkFilterCallbacks,
  ) {
    this.stream = plugin.newTcpStream({ properties: streamProperties(cb.streamInfo), events: this });
  }

  onResumeDownstream(): void {
    queueMicrotask(() => this.cb.continueReading());
  }

  onResumeUpstream(): void {
    queueMicrotask(() => this.cb.continueWriting());
  }

  onClose(): void {
    queueMicrotask(() => this.cb.close());
  }

  /** Copies what the plugin wrote to filter state since the last call (usually nothing: no Map is made). */
  private copyFilterState(result: Action): FilterStatus {
    const stream = this.stream;
    if (stream.filterStateVersion !== this.copiedState) {
      this.copiedState = stream.filterStateVersion;
      for (const [key, entry] of stream.filterState) this.cb.streamInfo.filterState.set(key, entry.value);
    }
    return result === Action.Continue ? "continue" : "stop";
  }

  onNewConnection(): FilterStatus {
    return this.copyFilterState(this.stream.newConnection());
  }

  // A socket's chunk is a fresh Buffer nobody else writes to, so the stream takes it without a copy; when
  // the plugin lets it through at once, the same Buffer goes on (the ABI's one guest call per chunk, and no
  // byte copied on the host side).
  onDownstreamData(data: BodyBuffer, endOfStream: boolean): FilterStatus {
    const chunk = data.data;
    const action = this.stream.downstreamDataOwned(chunk, endOfStream);
    if (action === Action.Continue) data.data = passedOn(chunk, this.stream.drainDownstream());
    return this.copyFilterState(action);
  }

  onUpstreamData(data: BodyBuffer, endOfStream: boolean): FilterStatus {
    const chunk = data.data;
    const action = this.stream.upstreamDataOwned(chunk, endOfStream);
    if (action === Action.Continue) data.data = passedOn(chunk, this.stream.drainUpstream());
    return this.copyFilterState(action);
  }

  drainDownstream(): Buffer {
    return drainedBuffer(this.stream.drainDownstream());
  }

  drainUpstream(): Buffer {
    return drainedBuffer(this.stream.drainUpstream());
  }

  onDownstreamClose(peer: Peer): void {
    this.stream.downstreamClose(peer === "local" ? PeerType.Local : PeerType.Remote);
  }

  onUpstreamClose(peer: Peer): void {
    this.stream.upstreamClose(peer === "local" ? PeerType.Local : PeerType.Remote);
  }

  onLog(): void {
    if (this.done) return;
    this.done = true;
    this.stream.complete();
  }

  onDestroy(): void {
    this.onLog();
  }
}

/** What to forward: the chunk itself when the stream released exactly it, else the released bytes. */
function passedOn(chunk: Buffer, released: Uint8Array): Buffer {
  return released === chunk ? chunk : drainedBuffer(released);
}
