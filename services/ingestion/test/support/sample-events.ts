import type { ApiEventInput } from "../../src/api-event.ts";

/**
 * A deterministic traffic sample: a few services, consumers and routes, statuses with errors, latencies with
 * ties and missing values, timestamps spread over `spanMs`. The same seed gives the same events.
 */
export function sampleEvents(
  count: number,
  options: { seed?: number; start?: number; spanMs?: number } = {},
): ApiEventInput[] {
  let state = options.seed ?? 42;
  // Park-Miller LCG: reproducible without a dependency, quality is irrelevant here.
  const next = () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const services = ["orders", "users", "payments", "catalog"];
  const consumers = ["frontend", "mobile-bff", "batch", "admin"];
  const routes = ["/users/{n}", "/orders/{n}/items", "/health", "/items/{n}", "/search"];
  const methods = ["GET", "GET", "GET", "POST", "DELETE"];
  const statuses = [200, 200, 200, 200, 201, 204, 404, 500, 503];
  const start = options.start ?? Date.UTC(2026, 10, 20, 12, 0, 0);
  const span = options.spanMs ?? 3_600_000;
  const events: ApiEventInput[] = [];
  for (let i = 0; i < count; i++) {
    const service = pick(services);
    const consumer = pick(consumers);
    const method = pick(methods);
    const status = pick(statuses);
    const path = pick(routes).replace("{n}", String(Math.floor(next() * 1000)));
    const latency = next() < 0.05 ? undefined : Math.round(next() * next() * 50_000) / 100;
    events.push({
      metadata: { context_id: i + 1, traffic_source_name: "Envoy", node_name: "node-1" },
      timestamp_ms: start + Math.floor(next() * span),
      method,
      path: next() < 0.3 ? `${path}?page=${Math.floor(next() * 5)}` : path,
      status,
      latency_ms: latency,
      protocol: "HTTP/1.1",
      source: {
        name: consumer,
        namespace: "default",
        ip: `10.0.0.${1 + consumers.indexOf(consumer)}`,
        port: 40000 + (i % 20000),
      },
      destination: {
        name: service,
        namespace: "default",
        ip: `10.0.1.${1 + services.indexOf(service)}`,
        port: 8080,
      },
      request: {
        headers: {
          ":method": method,
          ":path": path,
          ":authority": `${service}.svc`,
          "user-agent": "sample/1",
          authorization: "Bearer secret",
        },
        body: method === "POST" ? JSON.stringify({ i }) : "",
      },
      response: {
        headers: { ":status": String(status), "content-type": "application/json" },
        ...(i % 50 === 0
          ? { body_base64: Buffer.from([0, 1, 2, 255, i % 256]).toString("base64") }
          : { body: `{"ok":${status < 400}}` }),
      },
    });
  }
  return events;
}
