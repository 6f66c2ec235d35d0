/**
 * Shared key-value data, keyed by vm_id then key as Envoy keys it, with cpp-host's compare-and-swap rule:
 * every write gets a new non-zero CAS; a non-zero `cas` must match the current one; a new key ignores it.
 */
import { Status } from "./types.ts";

export interface SharedValue {
  value: Uint8Array;
  cas: number;
}

export class SharedDataStore {
  private readonly byVm = new Map<string, Map<string, SharedValue>>();
  private nextCas = 1;

  private casValue(): number {
    const cas = this.nextCas;
    this.nextCas = (this.nextCas + 1) >>> 0 || 1;
    return cas;
  }

  get(vmId: string, key: string): SharedValue | undefined {
    return this.byVm.get(vmId)?.get(key);
  }

  set(vmId: string, key: string, value: Uint8Array, cas: number): Status {
    let map = this.byVm.get(vmId);
    if (!map) {
      map = new Map();
      this.byVm.set(vmId, map);
    }
    const existing = map.get(key);
    if (existing && cas !== 0 && cas !== existing.cas) return Status.CasMismatch;
    map.set(key, { value: value.slice(), cas: this.casValue() });
    return Status.Ok;
  }

  /** All keys of a VM id (for tests). */
  keys(vmId: string): string[] {
    return [...(this.byVm.get(vmId)?.keys() ?? [])];
  }
}
