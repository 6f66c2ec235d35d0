/**
 * gRPC hostcalls: `proxy_grpc_call`, `proxy_grpc_stream`, `proxy_grpc_send`, `proxy_grpc_cancel`,
 * `proxy_grpc_close`. Calls belong to the caller's root context. Unknown upstream is PARSE_FAILURE (spec).
 */

import { utf8String } from "../bytes.ts";
import { parsePairs } from "../pairs.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

const EMPTY = new Uint8Array(0);

export function grpcImports(vm: Vm) {
  /**
   * `proxy_grpc_call`, and with `streaming` set `proxy_grpc_stream` (no message, no timeout). The message is
   * read first, as before the stream case shared this code, so a call's statuses keep their order.
   */
  function callOrStream(
    upstreamPtr: number,
    upstreamSize: number,
    servicePtr: number,
    serviceSize: number,
    methodPtr: number,
    methodSize: number,
    metadataPtr: number,
    metadataSize: number,
    messagePtr: number,
    messageSize: number,
    timeoutMs: number,
    tokenPtr: number,
    streaming = false,
  ): number {
    const message = streaming ? null : vm.read(messagePtr, messageSize);
    if (!streaming && message === null) return Status.InvalidMemoryAccess;
    const upstream = vm.read(upstreamPtr, upstreamSize);
    const service = vm.read(servicePtr, serviceSize);
    const method = vm.read(methodPtr, methodSize);
    const metadataBytes = vm.read(metadataPtr, metadataSize);
    if (upstream === null || service === null || method === null || metadataBytes === null) {
      return Status.InvalidMemoryAccess;
    }
    if (!vm.inBounds(tokenPtr, 4)) return Status.InvalidMemoryAccess;
    const metadata = parsePairs(metadataBytes);
    if (metadata === null) return Status.BadArgument;
    const root = vm.effective().rootContext;
    if (!root) return Status.BadArgument;
    const { status, token } = root.startGrpc(
      utf8String(upstream),
      utf8String(service),
      utf8String(method),
      metadata,
      message ? message.slice() : null,
      streaming ? 0 : timeoutMs >>> 0,
    );
    if (status === Status.Ok) vm.writeU32(tokenPtr, token);
    return status;
  }

  function find(token: number) {
    const root = vm.effective().rootContext;
    return root?.grpcCalls.get(token >>> 0);
  }

  return {
    proxy_grpc_call: callOrStream,
    proxy_grpc_stream(
      upstreamPtr: number,
      upstreamSize: number,
      servicePtr: number,
      serviceSize: number,
      methodPtr: number,
      methodSize: number,
      metadataPtr: number,
      metadataSize: number,
      tokenPtr: number,
    ): number {
      return callOrStream(
        upstreamPtr,
        upstreamSize,
        servicePtr,
        serviceSize,
        methodPtr,
        methodSize,
        metadataPtr,
        metadataSize,
        0,
        0,
        0,
        tokenPtr,
        true,
      );
    },
    proxy_grpc_send(token: number, messagePtr: number, messageSize: number, endStream: number): number {
      const message = vm.read(messagePtr, messageSize);
      if (message === null) return Status.InvalidMemoryAccess;
      // Envoy's Context::grpcSend: a call token (odd) is BAD_ARGUMENT whether or not it exists, an unknown
      // stream token NOT_FOUND; a known stream answers OK even once half-closed or closed by the upstream,
      // where its async stream drops the message (Http::AsyncStreamImpl::sendData after local close).
      if ((token & 1) === 1) return Status.BadArgument;
      const call = find(token);
      if (!call) return Status.NotFound;
      if (call.finished || call.localClosed) return Status.Ok;
      const copy = message.slice();
      call.sent.push(copy);
      if (endStream !== 0) call.localClosed = true;
      call.onSend?.(copy, endStream !== 0);
      return Status.Ok;
    },
    // A token is valid while it is in the root context's table: until the plugin cancels or closes it, and
    // after the upstream closed, until the proxy_on_grpc_close callback has returned (Envoy's
    // Context::onGrpcCloseWrapper erases it in an after-VM-call action), so cancel/close from inside that
    // callback answer OK. A stream the plugin had not closed stays valid after it (the cleanup erases a
    // stream only when local_closed_) until the plugin closes or cancels it (Context::grpcClose/grpcCancel).
    proxy_grpc_cancel(token: number): number {
      const call = find(token);
      if (!call) return Status.NotFound;
      vm.effective().rootContext?.grpcCalls.delete(call.id);
      if (!call.finished) call.cancelByPlugin();
      return Status.Ok;
    },
    proxy_grpc_close(token: number): number {
      const call = find(token);
      if (!call) return Status.NotFound;
      if (call.streaming && !call.finished) {
        // A stream is half-closed: the plugin sends no more, answers still arrive. Envoy's Context::grpcClose
        // calls the stream's closeStream(), which ends it upstream: the embedder hears an empty last send.
        if (!call.localClosed) {
          call.localClosed = true;
          call.onSend?.(EMPTY, true);
        }
        return Status.Ok;
      }
      // A unary call is cancelled (Context::grpcClose); a stream the upstream closed is forgotten.
      vm.effective().rootContext?.grpcCalls.delete(call.id);
      if (!call.finished) call.cancelByPlugin();
      return Status.Ok;
    },
  };
}
