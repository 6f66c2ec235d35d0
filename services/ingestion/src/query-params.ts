import type { EventFilter, StatusFilter } from "./event-store.ts";

/** A query-string value that cannot be used; the message names the parameter and what was expected. */
export class BadQueryError extends Error {
  override name = "BadQueryError";
}

/** Most recent events one request may ask for. */
export const MAX_RECENT_LIMIT = 1000;

/**
 * Reads the common filter parameters: `from` and `to` (ms since the epoch or an ISO 8601 date), `service`,
 * `status` (`404`, `5xx`, `error`).
 */
export function filterFromQuery(query: Record<string, unknown>): EventFilter {
  const filter: EventFilter = {};
  const from = single(query, "from");
  if (from !== undefined) filter.from = time(from, "from");
  const to = single(query, "to");
  if (to !== undefined) filter.to = time(to, "to");
  const service = single(query, "service");
  if (service !== undefined) {
    if (service.length === 0 || service.length > 1024)
      throw new BadQueryError("service must be 1 to 1024 characters");
    filter.service = service;
  }
  const status = single(query, "status");
  if (status !== undefined) filter.status = statusFilter(status);
  return filter;
}

/** `limit` for recent events: 1 to {@link MAX_RECENT_LIMIT}, default 100. */
export function limitFromQuery(query: Record<string, unknown>): number {
  const raw = single(query, "limit");
  if (raw === undefined) return 100;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_RECENT_LIMIT) {
    throw new BadQueryError(
      `limit must be a whole number from 1 to ${MAX_RECENT_LIMIT}, got ${JSON.stringify(raw)}`,
    );
  }
  return limit;
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw new BadQueryError(`give ${name} once`);
  // No store can hold a NUL in a filter value (and no captured value has one): refused here, as bad input.
  if (value.includes("\0")) throw new BadQueryError(`${name} must not contain a NUL byte (%00)`);
  return value;
}

function time(raw: string, name: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isSafeInteger(ms)) {
    throw new BadQueryError(
      `${name} must be milliseconds since the epoch or an ISO 8601 date, got ${JSON.stringify(raw.slice(0, 64))}`,
    );
  }
  return ms;
}

function statusFilter(raw: string): StatusFilter {
  if (/^[1-5][0-9][0-9]$/.test(raw)) return Number(raw);
  if (/^[1-5]xx$/.test(raw) || raw === "error") return raw as StatusFilter;
  throw new BadQueryError(
    `status must be a code (404), a class (1xx to 5xx) or "error", got ${JSON.stringify(raw.slice(0, 64))}`,
  );
}
