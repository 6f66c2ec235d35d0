/**
 * gRPC streams (`proxy_grpc_stream`): open one, send messages, and get the host's callbacks (initial
 * metadata, each message, trailing metadata, close) as handler calls.
 */

import { BufferType, expectOk, hostcall, MapType, Status, statusOf } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { readBuffer } from "./body.ts";
import { fromFlat, type HeaderList, type HeadersInit, serializePairs, toHeaderList } from "./header-pairs.ts";
import { encodeUtf8 } from "./text-encoding.ts";

/** What a stream tells its opener. Every handler is optional. */
export interface GrpcStreamHandlers {
  onInitialMetadata?(metadata: HeaderList): void;
  onMessage?(message: Uint8Array): void;
  onTrailingMetadata?(metadata: HeaderList): void;
  /** The stream ended: gRPC status code and message (0 is OK). */
  onClose?(code: number, details: string): void;
}

export interface GrpcStreamRequest extends GrpcStreamHandlers {
  /** The cluster (or serialized GrpcService). */
  service: string;
  serviceName: string;
  method: string;
  metadata?: HeadersInit;
}

const toBuffer = (message: string | Uint8Array): ArrayBuffer =>
  (typeof message === "string" ? encodeUtf8(message) : message.slice()).buffer as ArrayBuffer;

/** An open gRPC stream. */
export class GrpcStream {
  constructor(readonly token: number) {}

  /** Sends a message; `endStream` half-closes the stream after it. */
  send(message: string | Uint8Array, endStream = false): void {
    expectOk("grpc send", hostcall(HostOp.GrpcSend, this.token, toBuffer(message), endStream ? 1 : 0));
  }

  /** Half-closes the stream (no more messages from this side). */
  close(): void {
    expectOk("grpc close", hostcall(HostOp.GrpcClose, this.token));
  }

  /** Cancels the stream; no more callbacks arrive. */
  cancel(): void {
    expectOk("grpc cancel", hostcall(HostOp.GrpcCancel, this.token));
    streams.delete(this.token);
  }
}

const streams = new Map<number, GrpcStreamHandlers>();

/** Opens a gRPC stream; throws HostCallError when the host cannot start it. */
export function openGrpcStream(request: GrpcStreamRequest): GrpcStream {
  const token = expectOk<number>(
    `grpc stream ${request.serviceName}/${request.method}`,
    hostcall(
      HostOp.GrpcStream,
      request.service,
      request.serviceName,
      request.method,
      serializePairs(toHeaderList(request.metadata)),
    ),
  );
  streams.set(token, request);
  return new GrpcStream(token);
}

/** Whether `token` is an open stream (else it is a unary call, see callouts.ts). */
export function isGrpcStream(token: number): boolean {
  return streams.has(token);
}

function metadata(type: (typeof MapType)[keyof typeof MapType]): HeaderList {
  const result = hostcall(HostOp.GetHeaderMapPairs, type);
  return statusOf(result) === Status.Ok ? fromFlat(result as string[]) : [];
}

/** proxy_on_grpc_receive_initial_metadata / _trailing_metadata for a stream. */
export function onStreamMetadata(token: number, trailing: boolean): void {
  const handlers = streams.get(token);
  if (trailing) handlers?.onTrailingMetadata?.(metadata(MapType.GrpcCallTrailingMetadata));
  else handlers?.onInitialMetadata?.(metadata(MapType.GrpcCallInitialMetadata));
}

/** proxy_on_grpc_receive for a stream. */
export function onStreamMessage(token: number, size: number): void {
  streams.get(token)?.onMessage?.(readBuffer(BufferType.GrpcCallMessage, 0, size));
}

/** proxy_on_grpc_close for a stream. */
export function onStreamClose(token: number, code: number): void {
  const handlers = streams.get(token);
  streams.delete(token);
  const result = hostcall(HostOp.GetStatus);
  handlers?.onClose?.(code, statusOf(result) === Status.Ok ? (result as string) : "");
}
