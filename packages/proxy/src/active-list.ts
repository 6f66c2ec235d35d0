/**
 * The items a listener has in flight (streams, sessions, sockets), for idle sweeps and draining.
 *
 * Why not a Set: V8 rehashes a Set's table as items come and go. Once the table lives in the old
 * generation, every rehash leaves behind a dead old table that still points at the items it held, and
 * dead old objects count as roots for young-generation collections until the next full GC. Under load,
 * each request's whole object graph then survived its scavenges and was promoted (3 MB per scavenge, a
 * mark-compact every 0.3–0.5 s, 4–7 ms pauses; see bench/README.md). A linked list whose removed nodes
 * drop their links leaves nothing behind that can hold an item.
 */
export interface ActiveEntry<T> {
  value: T | undefined;
  prev: ActiveEntry<T> | undefined;
  next: ActiveEntry<T> | undefined;
}

export class ActiveList<T> implements Iterable<T> {
  private head: ActiveEntry<T> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `value`; the entry returned is what `remove` takes. */
  add(value: T): ActiveEntry<T> {
    const entry: ActiveEntry<T> = { value, prev: undefined, next: this.head };
    if (this.head) this.head.prev = entry;
    this.head = entry;
    this.count++;
    return entry;
  }

  /** Removes the entry (a second call is a no-op) and clears its links and value. */
  remove(entry: ActiveEntry<T>): void {
    if (entry.value === undefined) return;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    entry.value = undefined;
    entry.prev = undefined;
    entry.next = undefined;
    this.count--;
  }

  /** Iterates the items; removing the current item (or any other) while iterating is allowed. */
  *[Symbol.iterator](): Iterator<T> {
    for (const value of this.snapshot()) yield value;
  }

  /** The items now, as an array (callers may add or remove while walking it). */
  snapshot(): T[] {
    const out: T[] = [];
    for (let e = this.head; e; e = e.next) out.push(e.value!);
    return out;
  }
}
