/** Shared data (one key/value store per VM id, with compare-and-swap) and shared queues. */

import { expectOk, hostcall, lastExtra, Status, statusOf } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { decodeUtf8, encodeUtf8 } from "./text-encoding.ts";

const toBuffer = (value: string | Uint8Array): ArrayBuffer =>
  (typeof value === "string" ? encodeUtf8(value) : value.slice()).buffer as ArrayBuffer;

/** A value and the CAS token to update it with. */
export interface SharedValue {
  value: Uint8Array;
  cas: number;
  text(): string;
}

export const sharedData = {
  /** The value under `key`, or null when there is none. */
  get(key: string): SharedValue | null {
    const result = hostcall(HostOp.GetSharedData, key);
    if (statusOf(result) !== Status.Ok) return null;
    const value = new Uint8Array(result as ArrayBuffer);
    const cas = lastExtra();
    return { value, cas, text: () => decodeUtf8(value) };
  },
  /** Stores `value`; with `cas`, only if nobody wrote since that read. Returns false on a CAS mismatch. */
  set(key: string, value: string | Uint8Array, cas = 0): boolean {
    const status = statusOf(hostcall(HostOp.SetSharedData, key, toBuffer(value), cas));
    if (status === Status.CasMismatch) return false;
    expectOk("set shared data", status === Status.Ok ? 0 : -status);
    return true;
  },
};

export const sharedQueue = {
  /** Registers a queue of this VM; returns its id (for proxy_on_queue_ready and enqueue). */
  register(name: string): number {
    return expectOk<number>(`register queue ${name}`, hostcall(HostOp.RegisterSharedQueue, name));
  },
  /** The id of queue `name` of VM `vmId`, or null when it does not exist. */
  resolve(vmId: string, name: string): number | null {
    const result = hostcall(HostOp.ResolveSharedQueue, vmId, name);
    return statusOf(result) === Status.Ok ? (result as number) : null;
  },
  enqueue(queueId: number, data: string | Uint8Array): void {
    expectOk("enqueue", hostcall(HostOp.EnqueueSharedQueue, queueId, toBuffer(data)));
  },
  /** The next item, or null when the queue is empty. */
  dequeue(queueId: number): Uint8Array | null {
    const result = hostcall(HostOp.DequeueSharedQueue, queueId);
    return statusOf(result) === Status.Ok ? new Uint8Array(result as ArrayBuffer) : null;
  },
};
