import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FilterIteration, type FilterStage, type IterationSink } from "../src/http/filter-iteration.ts";
import type { HeaderList } from "../src/http/header-list.ts";
import type { BodyBuffer, FilterStatus } from "../src/http/http-filter.ts";

/** A stage that records what it is shown and answers from a script. */
class ScriptedStage implements FilterStage {
  readonly seen: string[] = [];
  private buffered: Buffer[] = [];
  constructor(
    private readonly name: string,
    private readonly answers: {
      headers?: FilterStatus;
      data?: (end: boolean) => FilterStatus;
      trailers?: FilterStatus;
    },
  ) {}
  headers(_h: HeaderList, end: boolean): FilterStatus {
    this.seen.push(`headers end=${end}`);
    return this.answers.headers ?? "continue";
  }
  data(body: BodyBuffer, end: boolean): FilterStatus {
    this.seen.push(`data ${body.data.toString()} end=${end}`);
    const status = this.answers.data?.(end) ?? "continue";
    if (status === "stop") {
      this.buffered.push(body.data);
      return "stop";
    }
    if (this.buffered.length > 0) {
      body.data = Buffer.concat([...this.buffered, body.data]);
      this.buffered = [];
    }
    return "continue";
  }
  drain(): Buffer {
    const out = Buffer.concat(this.buffered);
    this.buffered = [];
    return out;
  }
  trailers(t: HeaderList): FilterStatus {
    this.seen.push(`trailers ${t.map(([n, v]) => `${n}=${v}`).join(",")}`);
    return this.answers.trailers ?? "continue";
  }
  toString(): string {
    return this.name;
  }
}

class RecordingSink implements IterationSink {
  readonly got: string[] = [];
  headers(_h: HeaderList, end: boolean): void {
    this.got.push(`headers end=${end}`);
  }
  data(chunk: Buffer, end: boolean): void {
    this.got.push(`data ${chunk.toString()} end=${end}`);
  }
  trailers(t: HeaderList): void {
    this.got.push(`trailers ${t.map(([n, v]) => `${n}=${v}`).join(",")}`);
  }
}

const noOverflow = { overflow: () => assert.fail("overflow") };
const T: HeaderList = [["grpc-status", "0"]];

describe("trailers through a filter chain (filter_manager.cc decodeTrailers / encodeTrailers)", () => {
  test("trailers end the direction: body chunks go on with end_stream false, then the trailers", () => {
    const a = new ScriptedStage("a", {});
    const sink = new RecordingSink();
    const it = new FilterIteration([a], sink, 1 << 20, noOverflow);
    it.headers([], false);
    it.data(Buffer.from("x"), false);
    it.trailers(T);
    assert.deepEqual(a.seen, ["headers end=false", "data x end=false", "trailers grpc-status=0"]);
    assert.deepEqual(sink.got, ["headers end=false", "data x end=false", "trailers grpc-status=0"]);
  });

  test("a filter buffering the body sees the trailers; when it continues, its body goes on before them", () => {
    const a = new ScriptedStage("a", { data: (end) => (end ? "continue" : "stop") });
    const b = new ScriptedStage("b", {});
    const sink = new RecordingSink();
    const it = new FilterIteration([a, b], sink, 1 << 20, noOverflow);
    it.headers([], false);
    it.data(Buffer.from("one"), false);
    it.data(Buffer.from("two"), false);
    assert.deepEqual(sink.got, ["headers end=false"]);
    it.trailers(T);
    assert.deepEqual(a.seen.at(-1), "trailers grpc-status=0");
    assert.deepEqual(b.seen, ["headers end=false", "data onetwo end=false", "trailers grpc-status=0"]);
    assert.deepEqual(sink.got, ["headers end=false", "data onetwo end=false", "trailers grpc-status=0"]);
  });

  test("a filter that stops on the trailers holds them until it resumes", () => {
    const a = new ScriptedStage("a", { trailers: "stop" });
    const b = new ScriptedStage("b", {});
    const sink = new RecordingSink();
    const it = new FilterIteration([a, b], sink, 1 << 20, noOverflow);
    it.headers([], false);
    it.data(Buffer.from("x"), false);
    it.trailers(T);
    assert.deepEqual(sink.got, ["headers end=false", "data x end=false"]);
    it.resume();
    assert.deepEqual(b.seen.at(-1), "trailers grpc-status=0");
    assert.deepEqual(sink.got.at(-1), "trailers grpc-status=0");
  });

  test("trailers that arrive while a filter holds the headers wait, then follow the held body", () => {
    const a = new ScriptedStage("a", { headers: "stop" });
    const b = new ScriptedStage("b", {});
    const sink = new RecordingSink();
    const it = new FilterIteration([a, b], sink, 1 << 20, noOverflow);
    it.headers([], false);
    it.data(Buffer.from("held"), false);
    it.trailers(T);
    assert.deepEqual(sink.got, []);
    it.resume();
    assert.deepEqual(sink.got, ["headers end=false", "data held end=false", "trailers grpc-status=0"]);
    assert.deepEqual(b.seen, ["headers end=false", "data held end=false", "trailers grpc-status=0"]);
  });
});
