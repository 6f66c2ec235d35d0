// One HTTP stream, observed passively: every callback returns Continue. Headers are captured in
// their phase, bodies chunk by chunk up to `max_body_bytes`, and at access-log time (`onLog`, when the
// response is complete) the event is built, redacted and handed to the root context.

import {
  Action,
  HttpContext,
  LogLevel,
  currentTimeNanoseconds,
  destinationAddress,
  getPropertyInt,
  log,
  requestBody,
  requestDurationNanos,
  requestHeaders,
  requestProtocol,
  requestTimeNanos,
  responseBody,
  responseCode,
  responseHeaders,
  responseTrailers,
  sourceAddress,
  upstreamAddress,
} from "@proxy-wasm-ts/sdk/assembly";
import { ApiEvent, CapturedHeaders, NO_HEADERS, Workload } from "./api-event";
import { BodyCapture } from "./body-capture";
import { NodeWorkload } from "./observer-config";
import { ObserverRoot } from "./observer-root";

/** `xds.listener_direction` value of inbound listeners (envoy.config.core.v3.TrafficDirection). */
const INBOUND: i64 = 1;
/** Allocated once: a literal path in `getPropertyInt` would be a new array on every request. */
const LISTENER_DIRECTION: Array<string> = ["xds", "listener_direction"];

function textOrEmpty(value: string | null): string {
  return value === null ? "" : value;
}

export class ObservedStream extends HttpContext {
  private event: ApiEvent = new ApiEvent();
  private sawRequest: bool = false;
  /** `content-type: application/grpc...`: bodies are length-prefixed frames, the outcome is in trailers. */
  private grpc: bool = false;
  private startNs: u64 = 0;
  private requestCapture: BodyCapture;
  private responseCapture: BodyCapture;

  constructor(id: u32, root: ObserverRoot) {
    super(id, root);
    this.requestCapture = new BodyCapture(root.config.maxBodyBytes);
    this.responseCapture = new BodyCapture(root.config.maxBodyBytes);
  }

  get observer(): ObserverRoot {
    return changetype<ObserverRoot>(this.root);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): Action {
    const config = this.observer.config;
    const headers = CapturedHeaders.from(requestHeaders.getAllSerialized(), config.redactHeaders, this.observer.secretFields);
    this.event.requestHeaders = headers;
    this.event.method = textOrEmpty(headers.get(":method"));
    // The raw :path; query secrets are redacted when the event is written.
    this.event.path = textOrEmpty(headers.rawPath);
    // The one check plain HTTP pays: the captured content-type.
    const contentType = headers.get("content-type");
    this.grpc = contentType !== null && contentType.startsWith("application/grpc");
    this.event.grpc = this.grpc;
    this.startNs = currentTimeNanoseconds();
    this.sawRequest = true;
    return Action.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): Action {
    this.requestCapture.addChunk(requestBody, bodySize);
    return Action.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): Action {
    const config = this.observer.config;
    this.event.responseHeaders = CapturedHeaders.from(
      responseHeaders.getAllSerialized(),
      config.redactHeaders,
      this.observer.secretFields,
    );
    return Action.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): Action {
    this.responseCapture.addChunk(responseBody, bodySize);
    return Action.Continue;
  }

  // A gRPC call ends with grpc-status / grpc-message in the trailers (a trailers-only response has them
  // in the headers already). The event has no trailers section, so they join the response headers.
  onResponseTrailers(trailerCount: u32): Action {
    if (!this.grpc) return Action.Continue;
    const config = this.observer.config;
    const trailers = CapturedHeaders.from(responseTrailers.getAllSerialized(), config.redactHeaders, this.observer.secretFields);
    if (this.event.responseHeaders === NO_HEADERS) this.event.responseHeaders = new CapturedHeaders();
    this.event.responseHeaders.merge(trailers);
    return Action.Continue;
  }

  onLog(): void {
    if (!this.sawRequest) return;
    const observer = this.observer;
    const event = this.event;
    event.contextId = this.id;
    const requestTime = requestTimeNanos();
    event.timestampNs = requestTime > 0 ? <u64>requestTime : this.startNs;
    const duration = requestDurationNanos();
    event.latencyNs = duration >= 0 ? duration : <i64>(currentTimeNanoseconds() - this.startNs);
    event.status = this.status();
    event.protocol = textOrEmpty(requestProtocol());
    event.requestBody = this.requestCapture.bytes();
    event.responseBody = this.responseCapture.bytes();
    this.setWorkloads(event);
    event.trafficSourceName = observer.config.trafficSourceName;
    const node = observer.node;
    event.nodeName = node.nodeName;
    event.meshId = node.meshId;

    const problem = event.problem();
    if (problem.length > 0) {
      observer.invalid.increment();
      log(LogLevel.Debug, "call not recorded: " + problem);
      return;
    }
    observer.submit(event.toJson(observer.secretFields, observer.eventWriter));
  }

  /** `:status` of the response, else Envoy's response code (local replies), else 0 (no response). */
  private status(): i32 {
    const header = this.event.responseHeaders.get(":status");
    if (header !== null && header.length == 3) {
      let code = 0;
      for (let i = 0; i < 3; i++) {
        const c = header.charCodeAt(i);
        if (c < 48 || c > 57) return this.statusFromProperty();
        code = code * 10 + (c - 48);
      }
      if (code >= 100) return code;
    }
    return this.statusFromProperty();
  }

  private statusFromProperty(): i32 {
    const code = responseCode();
    return code >= 100 && code <= 999 ? <i32>code : 0;
  }

  private setWorkloads(event: ApiEvent): void {
    const observer = this.observer;
    const source = observer.sources.split(sourceAddress());
    const upstream = upstreamAddress();
    const destination = observer.destinations.split(upstream !== null ? upstream : destinationAddress());
    const node = this.observer.node;
    const name = node.name;
    const namespace = node.namespace;
    let side = this.observer.config.nodeWorkload;
    if (side == NodeWorkload.Auto) {
      side = getPropertyInt(LISTENER_DIRECTION) == INBOUND ? NodeWorkload.Destination : NodeWorkload.Source;
    }
    const empty = "";
    if (side == NodeWorkload.Destination) {
      event.source = new Workload(empty, empty, source);
      event.destination = new Workload(name, namespace, destination);
    } else {
      event.source = new Workload(name, namespace, source);
      event.destination = new Workload(empty, empty, destination);
    }
  }
}
