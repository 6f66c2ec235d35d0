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

  private copyFilterState(result: Action): FilterStatus {
    for (const [key, entry] of this.stream.filterState) this.cb.streamInfo.filterState.set(key, entry.value);
    return result === Action.Continue ? "continue" : "stop";
  }

  onNewConnection(): FilterStatus {
    return this.copyFilterState(this.stream.newConnection());
  }

  onDownstreamData(data: BodyBuffer, endOfStream: boolean): FilterStatus {
    const action = this.stream.downstreamData(data.data, endOfStream);
    if (action === Action.Continue) data.data = drainedBuffer(this.stream.drainDownstream());
    return this.copyFilterState(action);
  }

  onUpstreamData(data: BodyBuffer, endOfStream: boolean): FilterStatus {
    const action = this.stream.upstreamData(data.data, endOfStream);
    if (action === Action.Continue) data.data = drainedBuffer(this.stream.drainUpstream());
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
