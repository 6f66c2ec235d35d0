/**
 * Metric hostcalls. Ids are per VM and carry the type in their low two bits, as Envoy's do; the stats
 * themselves live in the host's shared store (`wasmcustom.<name>`).
 */

import { utf8String } from "../bytes.ts";
import type { ProxyWasmHost } from "../host.ts";
import type { Metric } from "../metrics.ts";
import { MetricType, Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function metricImports(vm: Vm, host: ProxyWasmHost) {
  const byId = new Map<number, Metric>();
  const idByKey = new Map<string, number>();
  let next = 1;
  return {
    proxy_define_metric(type: number, namePtr: number, nameSize: number, idPtr: number): number {
      const t = type >>> 0;
      if (t > MetricType.Histogram) return Status.BadArgument;
      const name = vm.read(namePtr, nameSize);
      if (name === null) return Status.InvalidMemoryAccess;
      if (!vm.inBounds(idPtr, 4)) return Status.InvalidMemoryAccess;
      const text = utf8String(name);
      const key = `${t}:${text}`;
      let id = idByKey.get(key);
      if (id === undefined) {
        id = ((next++ << 2) | t) >>> 0;
        idByKey.set(key, id);
        byId.set(id, host.metrics.define(t as MetricType, text));
      }
      vm.writeU32(idPtr, id);
      return Status.Ok;
    },
    proxy_increment_metric(id: number, delta: bigint): number {
      const metric = byId.get(id >>> 0);
      if (!metric) return Status.NotFound;
      const d = BigInt.asIntN(64, delta);
      if (metric.type === MetricType.Histogram) return Status.BadArgument;
      // Envoy (context.cc incrementMetric): a counter only goes up, by a positive offset.
      if (metric.type === MetricType.Counter && d <= 0n) return Status.BadArgument;
      metric.value = BigInt.asUintN(64, metric.value + d);
      return Status.Ok;
    },
    proxy_record_metric(id: number, value: bigint): number {
      const metric = byId.get(id >>> 0);
      if (!metric) return Status.NotFound;
      const v = BigInt.asUintN(64, value);
      if (metric.histogram) metric.histogram.record(v);
      // Envoy (context.cc recordMetric): recording on a counter adds; on a gauge it sets.
      else if (metric.type === MetricType.Counter) metric.value = BigInt.asUintN(64, metric.value + v);
      else metric.value = v;
      return Status.Ok;
    },
    proxy_get_metric(id: number, resultPtr: number): number {
      const metric = byId.get(id >>> 0);
      if (!metric) return Status.NotFound;
      if (metric.histogram) return Status.BadArgument;
      return vm.writeU64(resultPtr, metric.value) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
