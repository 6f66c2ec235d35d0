/**
 * Live objects by numeric id (contexts, callout tokens), for tables that see an insert and a delete per
 * request.
 *
 * Why not a plain Map: V8 rehashes a Map's table as entries come and go, and once the table lives in the
 * old generation, each rehash leaves a dead old table that still points at the values it held. Dead old
 * objects are roots for young-generation collections until the next full GC, so every stream context
 * (and all it references) would survive its scavenges and be promoted: under load, megabytes per scavenge
 * and frequent mark-compacts. Values here sit in small boxes that `delete` empties, so a left-over table
 * can hold only an empty box.
 */
interface Box<V> {
  value: V | undefined;
}

export class LiveTable<V> {
  private readonly boxes = new Map<number, Box<V>>();

  get size(): number {
    return this.boxes.size;
  }

  get(id: number): V | undefined {
    return this.boxes.get(id)?.value;
  }

  has(id: number): boolean {
    return this.boxes.has(id);
  }

  set(id: number, value: V): void {
    const box = this.boxes.get(id);
    if (box) box.value = value;
    else this.boxes.set(id, { value });
  }

  delete(id: number): boolean {
    const box = this.boxes.get(id);
    if (!box) return false;
    box.value = undefined;
    return this.boxes.delete(id);
  }

  /** The live values, in insertion order (a copy: the caller may delete while walking it). */
  values(): V[] {
    const out: V[] = [];
    for (const box of this.boxes.values()) if (box.value !== undefined) out.push(box.value);
    return out;
  }
}
