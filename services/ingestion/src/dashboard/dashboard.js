// The dashboard. Every captured value reaches the page through textContent or an attribute set with
// setAttribute, never as markup: captured traffic is hostile input.

const SVG_NS = "http://www.w3.org/2000/svg";

function $(selector) {
  return document.querySelector(selector);
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function time(ms) {
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

function number(value) {
  return value === null || value === undefined ? "—" : String(Math.round(value * 1000) / 1000);
}

function currentFilter() {
  const form = $("#filters");
  const params = new URLSearchParams();
  const range = form.elements.range.value;
  if (range) params.set("from", String(Date.now() - Number(range)));
  if (form.elements.service.value) params.set("service", form.elements.service.value);
  if (form.elements.status.value) params.set("status", form.elements.status.value);
  return params;
}

async function getJson(path, params) {
  const query = params?.toString();
  const res = await fetch(query ? `${path}?${query}` : path);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || `${path}: HTTP ${res.status}`);
  return body;
}

function renderInventory(apis) {
  const body = $("#inventory-table tbody");
  body.replaceChildren();
  for (const api of apis) {
    const row = document.createElement("tr");
    if (api.errorRate > 0.1) row.className = "error";
    cell(row, api.service);
    cell(row, api.method);
    cell(row, api.route, "route");
    cell(row, api.calls);
    cell(row, `${(api.errorRate * 100).toFixed(1)}%`);
    cell(row, number(api.p50));
    cell(row, number(api.p95));
    cell(row, number(api.p99));
    cell(row, time(api.firstSeen));
    cell(row, time(api.lastSeen));
    const more =
      api.consumerCount > api.consumers.length ? ` (+${api.consumerCount - api.consumers.length})` : "";
    cell(row, api.consumers.join(", ") + more);
    body.appendChild(row);
  }
}

function renderHeaders(selector, headers) {
  const body = $(`${selector} tbody`);
  body.replaceChildren();
  for (const [name, value] of Object.entries(headers)) {
    const row = document.createElement("tr");
    cell(row, name, "header-name");
    cell(row, value, "header-value");
    body.appendChild(row);
  }
}

function bodyText(body) {
  if (!body) return "(none)";
  const text = body.encoding === "utf8" ? body.data : `(binary, base64) ${body.data}`;
  return body.truncated ? `${text}… (cut short; loading the whole body)` : text;
}

function showEvent(event) {
  $("#event-detail").hidden = false;
  $("#event-id").textContent = event.id;
  renderHeaders("#request-headers", event.requestHeaders);
  renderHeaders("#response-headers", event.responseHeaders);
  $("#request-body").textContent = bodyText(event.requestBody);
  $("#response-body").textContent = bodyText(event.responseBody);
  // Listings carry the first 16 KiB of each body; the event by id has them whole.
  if (event.requestBody?.truncated || event.responseBody?.truncated) {
    getJson(`/api/v1/events/${encodeURIComponent(event.id)}`).then(
      (whole) => {
        if ($("#event-id").textContent === event.id) showEvent(whole.event);
      },
      (error) => {
        $("#status-line").textContent = `error: ${error.message}`;
      },
    );
  }
}

function renderEvents(events) {
  const body = $("#events-table tbody");
  body.replaceChildren();
  for (const event of events) {
    const row = document.createElement("tr");
    // A gRPC call answers HTTP 200 either way: its outcome is grpcStatus (the service reads it from
    // grpc-status, in the trailers or a trailers-only response), which also counts it as an error.
    const grpcStatus = event.grpcStatus;
    const grpcFailed = grpcStatus !== null && grpcStatus !== 0;
    if (event.status >= 400 || event.status === 0 || grpcFailed) row.className = "error";
    row.dataset.id = event.id;
    cell(row, time(event.ts));
    cell(row, event.consumer);
    cell(row, event.service);
    cell(row, event.method);
    cell(row, event.path);
    const status = event.status === 0 ? "none" : String(event.status);
    cell(row, grpcStatus === null ? status : `${status} grpc ${grpcStatus}`);
    cell(row, number(event.latencyMs));
    row.addEventListener("click", () => showEvent(event));
    body.appendChild(row);
  }
  if (events.length > 0) showEvent(events[0]);
  else $("#event-detail").hidden = true;
}

function svg(name, attributes) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** Sources on the left, destinations on the right, one line per edge, width by call count. */
function renderGraph(edges) {
  const table = $("#graph-table tbody");
  table.replaceChildren();
  for (const edge of edges) {
    const row = document.createElement("tr");
    cell(row, edge.source);
    cell(row, edge.destination);
    cell(row, edge.calls);
    cell(row, edge.errors);
    table.appendChild(row);
  }
  const canvas = $("#graph-svg");
  canvas.replaceChildren();
  const sources = [...new Set(edges.map((e) => e.source))].sort();
  const destinations = [...new Set(edges.map((e) => e.destination))].sort();
  const rows = Math.max(sources.length, destinations.length, 1);
  const height = Math.max(120, rows * 36 + 20);
  canvas.setAttribute("height", String(height));
  const y = (index, count) => ((index + 0.5) * height) / count;
  const left = 200;
  const right = 700;
  const maxCalls = Math.max(1, ...edges.map((e) => e.calls));
  for (const edge of edges) {
    const y1 = y(sources.indexOf(edge.source), sources.length);
    const y2 = y(destinations.indexOf(edge.destination), destinations.length);
    const line = svg("line", {
      x1: left,
      y1,
      x2: right,
      y2,
      stroke: edge.errors > 0 ? "#d9534f" : "#5b8def",
      "stroke-width": 1 + (5 * edge.calls) / maxCalls,
      "stroke-opacity": 0.7,
    });
    const title = svg("title", {});
    title.textContent = `${edge.source} → ${edge.destination}: ${edge.calls} calls, ${edge.errors} errors`;
    line.appendChild(title);
    canvas.appendChild(line);
  }
  const node = (label, x, yy, anchor, kind) => {
    canvas.appendChild(svg("circle", { cx: x, cy: yy, r: 6, fill: "#1d2330" }));
    const text = svg("text", {
      x: anchor === "end" ? x - 10 : x + 10,
      y: yy + 4,
      "text-anchor": anchor,
      class: `node ${kind}`,
    });
    text.textContent = label;
    canvas.appendChild(text);
  };
  sources.forEach((s, i) => {
    node(s, left, y(i, sources.length), "end", "source");
  });
  destinations.forEach((d, i) => {
    node(d, right, y(i, destinations.length), "start", "destination");
  });
}

async function refreshServices() {
  const { services } = await getJson("/api/v1/services");
  const select = $("#filters").elements.service;
  const chosen = select.value;
  const all = document.createElement("option");
  all.value = "";
  all.textContent = "all";
  select.replaceChildren(all);
  for (const service of services) {
    const option = document.createElement("option");
    option.value = service;
    option.textContent = service;
    select.appendChild(option);
  }
  select.value = services.includes(chosen) ? chosen : "";
}

async function refresh() {
  const line = $("#status-line");
  line.textContent = "loading…";
  try {
    await refreshServices();
    const filter = currentFilter();
    const recent = new URLSearchParams(filter);
    recent.set("limit", "100");
    const [inventory, events, graph] = await Promise.all([
      getJson("/api/v1/apis", filter),
      getJson("/api/v1/events/recent", recent),
      getJson("/api/v1/graph", filter),
    ]);
    renderInventory(inventory.apis);
    renderEvents(events.events);
    renderGraph(graph.edges);
    line.textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = "true";
    // Lets a test (or a person in devtools) see that a refresh has finished.
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes ?? 0) + 1);
  } catch (error) {
    line.textContent = `error: ${error.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  refresh();
});
