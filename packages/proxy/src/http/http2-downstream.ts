/**
 * The downstream side of one stream, as the HttpStream uses it: node:http's IncomingMessage and
 * ServerResponse for HTTP/1.1 (they fit these interfaces as they are, so the HTTP/1 path allocates nothing
 * more), and one Http2Downstream over a node:http2 server stream for HTTP/2.
 */
import { type Http2Session, constants as h2, type ServerHttp2Stream } from "node:http2";
import type { HeaderList } from "./header-list.ts";

/** The request body's source: `data` chunks, then `end`; flow control. */
export interface DownstreamRequest {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end" | "error", listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** Where the response goes. `writeHead` takes the headers as a flat name/value list. */
export interface DownstreamResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  shouldKeepAlive: boolean;
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: Buffer): boolean;
  end(): unknown;
  /** Trailers for the end of a chunked HTTP/1 body (node writes them only with chunked encoding). */
  addTrailers(trailers: Array<[string, string]>): void;
  destroy(): unknown;
  writeContinue(): void;
  on(event: "close", listener: () => void): unknown;
  once(event: "drain", listener: () => void): unknown;
}

/**
 * Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2); Envoy's HTTP/2 codec never sends them, and
 * node:http2 refuses a response carrying them.
 */
const H2_FORBIDDEN = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

function headerObject(status: number, flat: string[]): Record<string, string | string[] | number> {
  const out: Record<string, string | string[] | number> = { ":status": status };
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    const value = flat[i + 1]!;
    if (H2_FORBIDDEN.has(name) || (name === "te" && value !== "trailers")) continue;
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [String(existing), value];
  }
  return out;
}

function trailerObject(trailers: HeaderList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of trailers) {
    if (name[0] === ":" || H2_FORBIDDEN.has(name)) continue;
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  return out;
}

/** One HTTP/2 stream as the HttpStream's request source and response sink. */
export class Http2Downstream implements DownstreamResponse {
  /** Trailers to send when the body ends (`wantTrailers`), if any. */
  private trailers: HeaderList | undefined;
  /** Request trailers, once they arrived (node reports them before `end`). */
  requestTrailers: HeaderList | undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    /** The request's header block as received: name, value, name, value... */
    readonly rawHeaders: string[],
    /** The request ends with its HEADERS frame (END_STREAM set): it has no body. */
    readonly endAfterHeaders: boolean,
  ) {
    this.session = stream.session;
    stream.on("trailers", (_headers: unknown, _flags: number, raw: string[]) => {
      const list: HeaderList = [];
      for (let i = 0; i < raw.length; i += 2) list.push([raw[i]!, raw[i + 1]!]);
      this.requestTrailers = list;
    });
  }

  /** The response ended (END_STREAM sent or being sent with the trailers). */
  private finished = false;
  /** This side reset the stream. */
  private resetLocally = false;
  /** The response was started with `waitForTrailers` (it may end with trailers). */
  private waitsForTrailers = false;
  private readonly session: Http2Session | undefined;

  /** The client reset this stream (RST_STREAM) while its connection stayed up. */
  get resetByPeer(): boolean {
    const session = this.session;
    return (
      !this.finished && !this.resetLocally && session !== undefined && !session.destroyed && !session.closed
    );
  }

  get request(): DownstreamRequest {
    return this.stream;
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }
  get destroyed(): boolean {
    return this.stream.destroyed;
  }
  get writableEnded(): boolean {
    return this.stream.writableEnded;
  }
  /** node reports a stream the peer reset as finished too; this is whether the response was complete. */
  get writableFinished(): boolean {
    return this.finished;
  }
  /** HTTP/2 streams end without ending their connection; a draining connection gets GOAWAY instead. */
  get shouldKeepAlive(): boolean {
    return true;
  }
  set shouldKeepAlive(_keep: boolean) {}

  writeHead(status: number, headers: string[]): void {
    this.respond(status, headers, false, true);
  }

  /**
   * HEADERS, with END_STREAM when nothing follows (a gRPC trailers-only response is one HEADERS frame).
   * When trailers may follow the body (`mayHaveTrailers`: the response comes from an HTTP/2 upstream), node
   * waits for them (`wantTrailers`) and, if none come, ends with an empty DATA frame; otherwise END_STREAM
   * rides on the last DATA frame, as Envoy's codec sends it.
   */
  respond(status: number, headers: string[], endStream: boolean, mayHaveTrailers: boolean): void {
    const stream = this.stream;
    if (stream.headersSent || stream.destroyed) return;
    this.waitsForTrailers = !endStream && mayHaveTrailers;
    try {
      stream.respond(
        headerObject(status, headers),
        endStream ? { endStream: true } : this.waitsForTrailers ? { waitForTrailers: true } : {},
      );
    } catch {
      // A header HTTP/2 cannot carry (node refuses it): the stream is reset rather than the process crashing.
      this.destroy();
      return;
    }
    if (endStream) {
      this.finished = true;
      return;
    }
    if (!this.waitsForTrailers) return;
    stream.once("wantTrailers", () => {
      this.finished = true;
      const t = this.trailers;
      try {
        stream.sendTrailers(t ? trailerObject(t) : {});
      } catch {}
    });
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  end(): void {
    if (!this.waitsForTrailers) this.finished = true;
    this.stream.end();
  }

  addTrailers(trailers: Array<[string, string]>): void {
    this.trailers = trailers;
  }

  /** Ends the body with trailers (a HEADERS frame with END_STREAM). */
  endWithTrailers(trailers: HeaderList): void {
    this.trailers = trailers;
    this.end();
  }

  /** Envoy resets the stream (Http2 codec_impl.cc: RST_STREAM NO_ERROR for a local reset). */
  destroy(): void {
    this.resetWith(h2.NGHTTP2_NO_ERROR);
  }

  /** RST_STREAM with `code`. */
  resetWith(code: number): void {
    this.resetLocally = true;
    if (!this.stream.destroyed) this.stream.close(code);
  }

  writeContinue(): void {
    if (!this.stream.headersSent && !this.stream.destroyed) this.stream.additionalHeaders({ ":status": 100 });
  }

  on(event: "close", listener: () => void): this {
    this.stream.on(event, listener);
    return this;
  }

  once(event: "drain", listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }
}
