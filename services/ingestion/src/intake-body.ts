import { type ApiEvent, InvalidEventError, type NormalizeOptions, normalizeEvent } from "./api-event.ts";

/** How an intake body is framed, from its content type. */
export type IntakeFormat = "json" | "ndjson";

/** Content types the intake accepts, by format. */
export const INTAKE_CONTENT_TYPES: Readonly<Record<string, IntakeFormat>> = {
  "application/json": "json",
  "application/x-ndjson": "ndjson",
  "application/ndjson": "ndjson",
  "application/jsonl": "ndjson",
  "application/x-jsonlines": "ndjson",
};

/** An intake body that cannot be accepted; `status` is 400 or 413. */
export class IntakeError extends Error {
  override name = "IntakeError";
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses and validates a whole intake body: one event or an array of events (`json`), or one event per line
 * (`ndjson`, blank lines allowed). All or nothing: one bad event refuses the batch, naming it, so a client
 * never has to guess which events were kept.
 */
export function parseIntakeBody(
  body: Buffer,
  format: IntakeFormat,
  options: NormalizeOptions & { maxEvents: number },
): ApiEvent[] {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new IntakeError(400, "body is not valid UTF-8");
  }
  const values: [unknown, string][] = [];
  if (format === "json") {
    if (text.trim() === "")
      throw new IntakeError(400, "body is empty; expected an event object or an array of events");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new IntakeError(400, `body is not valid JSON: ${(error as Error).message}`);
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) throw new IntakeError(400, "the event array is empty");
      checkCount(parsed.length, options.maxEvents);
      parsed.forEach((value, i) => {
        values.push([value, `event ${i}`]);
      });
    } else {
      values.push([parsed, "event"]);
    }
  } else {
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === "") continue;
      checkCount(values.length + 1, options.maxEvents);
      try {
        values.push([JSON.parse(line), `line ${i + 1}`]);
      } catch (error) {
        throw new IntakeError(400, `line ${i + 1} is not valid JSON: ${(error as Error).message}`);
      }
    }
    if (values.length === 0)
      throw new IntakeError(400, "body has no events; expected one JSON event per line");
  }
  try {
    return values.map(([value, where]) => normalizeEvent(value, where, options));
  } catch (error) {
    if (error instanceof InvalidEventError) throw new IntakeError(400, error.message);
    throw error;
  }
}

function checkCount(count: number, max: number): void {
  if (count > max) throw new IntakeError(413, `more than ${max} events in one request; split the batch`);
}
