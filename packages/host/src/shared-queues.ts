/**
 * Shared queues, keyed by (vm_id, name) as Envoy keys them. The registering root context is the one told
 * (`proxy_on_queue_ready`) when an item arrives; the notification runs after the enqueuing callback returns,
 * as Envoy posts it to the registrant's dispatcher.
 */
import { Status } from "./types.ts";

export interface QueueOwner {
  /** Delivers `proxy_on_queue_ready` to the registering root context. */
  notifyQueueReady(token: number): void;
}

export class SharedQueue {
  readonly items: Uint8Array[] = [];
  constructor(
    readonly token: number,
    readonly vmId: string,
    readonly name: string,
    public owner: QueueOwner | null,
  ) {}
}

export class SharedQueueRegistry {
  private readonly byName = new Map<string, SharedQueue>();
  private readonly byToken = new Map<number, SharedQueue>();
  private nextToken = 1;

  /** Creates or reopens a queue; the caller becomes the one notified. */
  register(vmId: string, name: string, owner: QueueOwner | null): SharedQueue {
    const key = `${vmId}\0${name}`;
    let queue = this.byName.get(key);
    if (!queue) {
      queue = new SharedQueue(this.nextToken++, vmId, name, owner);
      this.byName.set(key, queue);
      this.byToken.set(queue.token, queue);
    } else {
      queue.owner = owner;
    }
    return queue;
  }

  resolve(vmId: string, name: string): SharedQueue | undefined {
    return this.byName.get(`${vmId}\0${name}`);
  }

  byId(token: number): SharedQueue | undefined {
    return this.byToken.get(token);
  }

  enqueue(token: number, value: Uint8Array): Status {
    const queue = this.byToken.get(token);
    if (!queue) return Status.NotFound;
    queue.items.push(value.slice());
    queue.owner?.notifyQueueReady(token);
    return Status.Ok;
  }

  dequeue(token: number): { status: Status; value?: Uint8Array } {
    const queue = this.byToken.get(token);
    if (!queue) return { status: Status.NotFound };
    const value = queue.items.shift();
    return value === undefined ? { status: Status.Empty } : { status: Status.Ok, value };
  }
}
