// The root context: configuration, and the event buffer every stream of this VM hands its event to.
// Events go to the ingestion service in JSON-array batches (when `batch_size` are waiting, and on
// every tick for the rest), at most MAX_IN_FLIGHT batches at a time. Memory is bounded: past
// `max_buffered_events` / `max_buffered_bytes` new events are dropped, and batches the collector does
// not accept are dropped too; both count in api_observer_events_dropped_total.

import {
  Counter,
  Gauge,
  HeaderList,
  HttpCallResponse,
  HttpContext,
  JsonWriter,
  RootContext,
  logError,
  logInfo,
  logWarn,
  nodeMetadata,
  setTickPeriod,
} from "@proxy-wasm-ts/sdk/assembly";
import { ObservedStream } from "./observed-stream";
import { ObserverConfig, parseObserverConfig } from "./observer-config";
import { SecretFields, secretFieldNames } from "./redaction";
import { AddressSplitter } from "./workload-address";

const MAX_IN_FLIGHT: i32 = 2;
/** A batch stays well under the ingestion service's default 16 MiB body limit. */
const MAX_BATCH_BYTES: i32 = 8 * 1024 * 1024;

/**
 * The proxy's own node metadata the events carry. Envoy's node (bootstrap `node.metadata`) is fixed for the
 * life of the process, so it is read once, on the first event, rather than four property reads per call.
 */
export class NodeIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly meshId: string;

  constructor() {
    this.name = textOrEmpty(nodeMetadata("NAME"));
    this.namespace = textOrEmpty(nodeMetadata("NAMESPACE"));
    this.nodeName = textOrEmpty(nodeMetadata("NODE_NAME"));
    this.meshId = textOrEmpty(nodeMetadata("MESH_ID"));
  }
}

function textOrEmpty(value: string | null): string {
  return value === null ? "" : value;
}

export class ObserverRoot extends RootContext {
  config: ObserverConfig = new ObserverConfig();
  secretFields: SecretFields = new SecretFields(new Array<string>());
  /** Every event of this root is written here, then copied out (ApiEvent.toJson). */
  readonly eventWriter: JsonWriter = new JsonWriter(4096);
  private queue: Array<ArrayBuffer> = new Array<ArrayBuffer>();
  private queuedBytes: i32 = 0;
  /** Events per outstanding batch, by callout token. */
  private inFlight: Map<u32, i32> = new Map<u32, i32>();
  /** True while the collector is failing: logged once per outage, not per batch. */
  private collectorFailing: bool = false;
  private dropping: bool = false;
  private nodeIdentity: NodeIdentity | null = null;
  /** Source and destination addresses of recent calls, split (most repeat from one call to the next). */
  readonly sources: AddressSplitter = new AddressSplitter();
  readonly destinations: AddressSplitter = new AddressSplitter();

  readonly sent: Counter = new Counter("api_observer_events_sent_total");
  readonly dropped: Counter = new Counter("api_observer_events_dropped_total");
  readonly invalid: Counter = new Counter("api_observer_events_invalid_total");
  readonly failedBatches: Counter = new Counter("api_observer_batches_failed_total");
  readonly buffered: Gauge = new Gauge("api_observer_buffered_events");

  onConfigure(configuration: ArrayBuffer): bool {
    const config = parseObserverConfig(configuration);
    if (config.error.length > 0) {
      logError("invalid configuration: " + config.error);
      return false;
    }
    this.config = config;
    this.secretFields = new SecretFields(secretFieldNames(config.redactBodyFields, config.redactHeaders));
    setTickPeriod(config.flushIntervalMs);
    return true;
  }

  /** The node metadata of this proxy (read on first use). */
  get node(): NodeIdentity {
    let node = this.nodeIdentity;
    if (node === null) {
      node = new NodeIdentity();
      this.nodeIdentity = node;
    }
    return node;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new ObservedStream(contextId, this);
  }

  /** Takes one finished event from a stream of this VM. */
  submit(event: ArrayBuffer): void {
    const size = event.byteLength;
    if (this.queue.length >= this.config.maxBufferedEvents || this.queuedBytes + size > this.config.maxBufferedBytes) {
      this.dropped.increment();
      if (!this.dropping) {
        this.dropping = true;
        logWarn("event buffer full (collector slow or down); dropping events");
      }
      return;
    }
    this.dropping = false;
    this.queue.push(event);
    this.queuedBytes += size;
    this.buffered.set(<u64>this.queue.length);
    if (this.queue.length >= this.config.batchSize) this.flush(false);
  }

  onTick(): void {
    this.flush(true);
  }

  onDone(): bool {
    this.flush(true);
    return true;
  }

  /** Sends full batches (and, when `partial`, what is left) while a sending slot is free. */
  private flush(partial: bool): void {
    while (this.inFlight.size < MAX_IN_FLIGHT && this.queue.length > 0) {
      if (!partial && this.queue.length < this.config.batchSize) return;
      this.sendBatch();
    }
  }

  private sendBatch(): void {
    let count = 0;
    let size = 2;
    while (count < this.queue.length && count < this.config.batchSize) {
      const next = this.queue[count].byteLength + 1;
      if (count > 0 && size + next > MAX_BATCH_BYTES) break;
      size += next;
      count++;
    }
    const batch = this.queue.slice(0, count);
    this.queue.splice(0, count);
    const body = new Uint8Array(size - (count > 0 ? 1 : 0));
    let at = 0;
    body[at++] = 0x5b; // [
    for (let i = 0; i < count; i++) {
      if (i > 0) body[at++] = 0x2c; // ,
      const event = Uint8Array.wrap(batch[i]);
      body.set(event, at);
      at += event.length;
      this.queuedBytes -= event.length;
    }
    body[at] = 0x5d; // ]
    this.buffered.set(<u64>this.queue.length);

    const config = this.config;
    const headers = new HeaderList()
      .add(":method", "POST")
      .add(":path", config.path)
      .add(":authority", config.authority)
      .add("content-type", "application/json");
    if (config.authToken.length > 0) headers.add("authorization", "Bearer " + config.authToken);
    const call = this.httpCall(config.upstreamName, headers, body.buffer, null, config.timeoutMs);
    if (!call.ok) {
      this.batchFailed(count, `cannot call cluster ${config.upstreamName} (status ${call.status})`);
      return;
    }
    this.inFlight.set(call.token, count);
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    if (!this.inFlight.has(token)) return;
    const count = this.inFlight.get(token);
    this.inFlight.delete(token);
    const status = response.statusCode;
    if (response.failed) this.batchFailed(count, "collector did not answer (timeout or connection failure)");
    else if (status < 200 || status > 299) this.batchFailed(count, `collector answered HTTP ${status}: ${clipReason(response.bodyText())}`);
    else {
      this.sent.increment(count);
      if (this.collectorFailing) {
        this.collectorFailing = false;
        logInfo("collector accepts events again");
      }
    }
    this.flush(false);
  }

  private batchFailed(count: i32, reason: string): void {
    this.dropped.increment(count);
    this.failedBatches.increment();
    if (!this.collectorFailing) {
      this.collectorFailing = true;
      logWarn(`${count} event(s) dropped: ${reason}`);
    }
  }
}

function clipReason(text: string): string {
  return text.length > 200 ? text.substring(0, 200) : text;
}
