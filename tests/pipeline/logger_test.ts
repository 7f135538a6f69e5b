import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BatchLogRecordProcessor,
  InMemoryExporter,
  type LogEmitContext,
  LoggerProvider,
  type LogRecord,
  type LogRecordData,
  type LogRecordProcessor,
  randomSpanId,
  randomTraceId,
  Resource,
  SimpleLogRecordProcessor,
  toLogRecordData,
  TracerProvider,
  withActiveSpan,
} from "../../mod.ts";
import { collect, envOf } from "./_fakes.ts";

const resource = new Resource({ "service.name": "test" });

/** A provider batching into an in-memory exporter, silent, default env. */
function batchedLogs(maxQueueSize: number): {
  exporter: InMemoryExporter<LogRecordData>;
  logs: LoggerProvider;
} {
  const exporter = new InMemoryExporter<LogRecordData>();
  const logs = new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor(exporter, {
        env: envOf({}),
        diagnostics: () => {},
        maxQueueSize,
      }),
    ],
    env: envOf({}),
  });
  return { exporter, logs };
}

class Recording implements LogRecordProcessor {
  records: LogRecordData[] = [];
  answer = true;
  asked: [number | undefined, string | undefined][] = [];
  onEmit(record: LogRecord, context: LogEmitContext): void {
    this.records.push(toLogRecordData(record, context));
  }
  enabled(
    severity: number | undefined,
    eventName: string | undefined,
  ): boolean {
    this.asked.push([severity, eventName]);
    return this.answer;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe("Logger", () => {
  it("resolves a record: times, severity, body, attributes, scope and resource", () => {
    const p = new Recording();
    const provider = new LoggerProvider({
      resource,
      processors: [p],
      env: envOf({}),
    });
    const logger = provider.getLogger("lib", "1.2.3", {
      schemaUrl: "https://s",
      attributes: { a: 1 },
    });
    const before = Date.now();
    logger.emit({
      timestamp: 1_700_000_000_123_456_789n,
      severityNumber: 13,
      severityText: "WARN",
      body: { msg: "hi" },
      attributes: { k: "v" },
      eventName: "user.login",
    });
    const r = p.records[0];
    assert.equal(r.timeUnixMs, 1_700_000_000_123);
    assert.equal(r.timeNanosInMs, 456_789);
    assert.ok(r.observedTimeUnixMs >= before - 1000);
    assert.equal(r.severityNumber, 13);
    assert.equal(r.severityText, "WARN");
    assert.deepEqual(r.body, { msg: "hi" });
    assert.deepEqual(r.attributes, { k: "v" });
    assert.equal(r.eventName, "user.login");
    assert.equal(r.traceId, undefined);
    assert.equal(r.traceFlags, 0);
    assert.deepEqual(r.scope, {
      name: "lib",
      version: "1.2.3",
      schemaUrl: "https://s",
      attributes: { a: 1 },
    });
    assert.equal(r.resource, resource);
  });

  it("gives every snapshot the same fields in the same order, whatever the record left out or got wrong", () => {
    const p = new Recording();
    const provider = new LoggerProvider({
      resource,
      processors: [p],
      env: envOf({}),
    });
    const logger = provider.getLogger("lib");
    logger.emit({});
    logger.emit({
      timestamp: 1_700_000_000_123,
      observedTimestamp: [1_700_000_000, 5],
      severityNumber: 9,
      severityText: "INFO",
      body: "b",
      attributes: { k: 1 },
      eventName: "e",
      traceId: "4BF92F3577B34DA6A3CE929D0E0E4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
    });
    logger.emit({
      timestamp: -1,
      severityNumber: 99,
      severityText: 7 as unknown as string,
      eventName: 3 as unknown as string,
      traceId: "zz",
      spanId: "00f067aa0ba902b7",
    });
    const fields = [
      "timeUnixMs",
      "timeNanosInMs",
      "observedTimeUnixMs",
      "observedTimeNanosInMs",
      "severityNumber",
      "severityText",
      "body",
      "attributes",
      "droppedAttributesCount",
      "eventName",
      "traceId",
      "spanId",
      "traceFlags",
      "resource",
      "scope",
    ];
    for (const r of p.records) assert.deepEqual(Object.keys(r), fields);
    const [empty, full, bad] = p.records;
    assert.equal(empty.timeUnixMs, 0);
    assert.ok(empty.observedTimeUnixMs > 0);
    assert.equal(empty.severityText, undefined);
    assert.deepEqual(empty.attributes, {});
    assert.equal(full.observedTimeUnixMs, 1_700_000_000_000);
    assert.equal(full.observedTimeNanosInMs, 5);
    assert.equal(full.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(full.spanId, "00f067aa0ba902b7");
    assert.equal(full.traceFlags, 1);
    assert.equal(bad.timeUnixMs, 0);
    assert.equal(bad.severityNumber, 0);
    assert.equal(bad.severityText, undefined);
    assert.equal(bad.eventName, undefined);
    assert.equal(bad.traceId, undefined);
    assert.equal(bad.spanId, undefined);
    assert.equal(bad.traceFlags, 0);
    const s = provider.stats;
    assert.equal(s.invalidTimes, 1);
    assert.equal(s.invalidFields, 3);
    assert.equal(s.invalidTraceContexts, 1);
  });

  it("returns the same logger for the same scope", () => {
    const provider = new LoggerProvider({ resource, env: envOf({}) });
    assert.equal(provider.getLogger("a", "1"), provider.getLogger("a", "1"));
    assert.notEqual(provider.getLogger("a", "1"), provider.getLogger("a", "2"));
  });

  it("hands every processor the same snapshot and sanitizes once", () => {
    const a = new Recording();
    const b = new Recording();
    const provider = new LoggerProvider({
      resource,
      processors: [a, b],
      env: envOf({}),
    });
    provider.getLogger("t").emit({
      attributes: { bad: (() => 1) as never, ok: 1 },
    });
    assert.equal(a.records[0], b.records[0]);
    assert.equal(provider.stats.invalidValues, 1);
  });

  it("takes the trace context from the active span, and lets the record's own win", async () => {
    const p = new Recording();
    const logs = new LoggerProvider({
      resource,
      processors: [p],
      env: envOf({}),
    });
    const traces = new TracerProvider({ resource, env: envOf({}) });
    const logger = logs.getLogger("t");
    const span = traces.getTracer("t").startSpan("op");
    await withActiveSpan(span, async () => {
      await Promise.resolve();
      logger.emit({ body: "inside" });
      logger.emit({
        body: "own",
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        traceFlags: 0,
      });
    });
    logger.emit({ body: "outside" });
    assert.equal(p.records[0].traceId, span.traceId);
    assert.equal(p.records[0].spanId, span.spanId);
    assert.equal(p.records[0].traceFlags, 1);
    assert.equal(p.records[1].traceId, "0af7651916cd43dd8448eb211c80319c");
    assert.equal(p.records[1].traceFlags, 0);
    assert.equal(p.records[2].traceId, undefined);
  });

  it("checks an active span's ids again when they change, even on the same span context object", () => {
    // The snapshot remembers the last valid ids it took from an active span;
    // a remote parent whose context object is mutated must not get them.
    const p = new Recording();
    const logs = new LoggerProvider({
      resource,
      processors: [p],
      env: envOf({}),
    });
    const logger = logs.getLogger("t");
    const context = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
    };
    const parent = { spanContext: () => context };
    const steps: [string, string, string | undefined][] = [
      // traceId, spanId, the trace id expected in the snapshot
      [context.traceId, context.spanId, context.traceId],
      [context.traceId, context.spanId, context.traceId], // the same again
      [context.traceId, "00f067aa0ba902b8", context.traceId], // another span
      ["4bf92f3577b34da6a3ce929d0e0e473", context.spanId, undefined], // 31 digits
      ["4bf92f3577b34da6a3ce929d0e0e473g", context.spanId, undefined], // not hex
      ["4BF92F3577B34DA6A3CE929D0E0E4736", context.spanId, context.traceId],
      ["4BF92F3577B34DA6A3CE929D0E0E4736", context.spanId, context.traceId],
      [context.traceId, "0000000000000000", undefined], // all zeros
      [
        "00000000000000000000000000000001",
        "0000000000000001",
        "00000000000000000000000000000001",
      ],
    ];
    withActiveSpan(parent, () => {
      for (const [traceId, spanId] of steps) {
        context.traceId = traceId;
        context.spanId = spanId;
        logger.emit({ body: "x" });
      }
    });
    assert.deepEqual(
      p.records.map((r) => r.traceId),
      steps.map((s) => s[2]),
    );
    assert.deepEqual(
      p.records.map((r) => r.spanId),
      steps.map((s) => s[2] === undefined ? undefined : s[1]),
    );
    assert.equal(logs.stats.invalidTraceContexts, 3);
  });

  it("checks ids given in the record in full whenever they are not the last valid ones, through a batch", async () => {
    // The snapshot remembers the last valid ids (from the record or the
    // active span) and compares before reading the hex digits: every
    // invalid id below comes right after a valid one it resembles (same
    // first character, or the same digits) and must still be dropped and
    // counted as before, and must not replace the remembered ids.
    const { exporter, logs } = batchedLogs(2048);
    const logger = logs.getLogger("t");
    const T = "4bf92f3577b34da6a3ce929d0e0e4736";
    const S = "00f067aa0ba902b7";
    const Z = "0af7651916cd43dd8448eb211c80319c"; // starts with "0", as zeros do
    const swapLast = (id: string, c: string) => id.slice(0, -1) + c;
    const throwing = new Proxy({ traceId: T, spanId: S }, {
      get(target, key) {
        if (key === "spanId") throw new Error("hostile getter");
        return Reflect.get(target, key);
      },
    });
    const steps: [record: LogRecord, traceId: string | undefined][] = [
      [{ traceId: T, spanId: S }, T],
      [{ traceId: T, spanId: S }, T], // the remembered ids
      [{ traceId: T + "0", spanId: S }, undefined], // 33 digits
      [{ traceId: T.slice(0, -1), spanId: S }, undefined], // 31
      [{ traceId: swapLast(T, "g"), spanId: S }, undefined], // not hex
      [{ traceId: swapLast(T, "\ud800"), spanId: S }, undefined], // lone surrogate
      [{ traceId: swapLast(T, "\u0636"), spanId: S }, undefined], // 0x36 + 0x600
      // deno-lint-ignore no-explicit-any
      [{ traceId: new String(T) as any, spanId: S }, undefined],
      // deno-lint-ignore no-explicit-any
      [{ traceId: { toString: () => T } as any, spanId: S }, undefined],
      // deno-lint-ignore no-explicit-any
      [{ traceId: 0x4bf92f35 as any, spanId: S }, undefined],
      [{ traceId: T, spanId: S.toUpperCase() }, T], // lowercased
      [{ traceId: T.toUpperCase(), spanId: S }, T],
      [{ traceId: T, spanId: S + "0" }, undefined], // 17
      [{ traceId: T, spanId: "0000000000000000" }, undefined],
      [{ traceId: T }, undefined], // half a pair
      [{ spanId: S }, undefined],
      [throwing, undefined], // spanId unreadable: half a pair
      [{ traceId: Z, spanId: S }, Z],
      [{ traceId: "0".repeat(32), spanId: S }, undefined],
      [{ traceId: Z, spanId: S }, Z],
      [{ traceId: T, spanId: S }, T],
    ];
    for (const [record] of steps) logger.emit(record);
    await logs.forceFlush();
    assert.deepEqual(
      exporter.items.map((r) => r.traceId),
      steps.map((s) => s[1]),
    );
    assert.deepEqual(
      exporter.items.map((r) => r.spanId),
      steps.map((s) => s[1] === undefined ? undefined : S),
    );
    assert.equal(logs.stats.invalidTraceContexts, 14);
    assert.equal(logs.stats.invalidFields, 1); // the throwing getter
  });

  it("remembers the valid id pairs of many interleaved spans, and checks everything else in full", async () => {
    // The snapshot remembers recent valid pairs in slots picked by the span
    // id's first three characters (and compares its last one first): ids
    // that land in a remembered pair's slot, or match one of its halves,
    // must still be dropped and counted when invalid, as before the cache.
    const { exporter, logs } = batchedLogs(4096);
    const logger = logs.getLogger("t");
    // 600 spans emitted interleaved, three rounds: every pair comes back.
    const pairs: [string, string][] = [];
    for (let i = 0; i < 600; i++) pairs.push([randomTraceId(), randomSpanId()]);
    for (let round = 0; round < 3; round++) {
      for (const [traceId, spanId] of pairs) logger.emit({ traceId, spanId });
    }
    await logs.forceFlush();
    assert.equal(exporter.items.length, 1800);
    exporter.items.forEach((r, i) => {
      assert.equal(r.traceId, pairs[i % 600][0]);
      assert.equal(r.spanId, pairs[i % 600][1]);
    });
    assert.equal(logs.stats.invalidTraceContexts, 0);
    exporter.items.length = 0;

    const T = "4bf92f3577b34da6a3ce929d0e0e4736";
    const T2 = "5bf92f3577b34da6a3ce929d0e0e4736";
    const S = "abc067aa0ba902b7";
    // Same slot and last character as S, another id.
    const S2 = "abc167aa0ba902b7";
    const mid = (id: string, c: string) => id.slice(0, 8) + c + id.slice(9);
    const hostile = new Proxy({ traceId: T, spanId: S }, {
      get(target, key) {
        if (key === "traceId") throw new Error("hostile getter");
        return Reflect.get(target, key);
      },
    });
    const steps: [record: LogRecord, traceId?: string, spanId?: string][] = [
      [{ traceId: T, spanId: S }, T, S],
      [{ traceId: T, spanId: S }, T, S], // remembered
      [{ traceId: T2, spanId: S }, T2, S], // another trace, same span id
      [{ traceId: T, spanId: S2 }, T, S2], // same slot, another span
      [{ traceId: T, spanId: S }, T, S],
      [{ traceId: mid(T, "g"), spanId: S }], // the span id's pair, bad trace id
      [{ traceId: mid(T, "\ud800"), spanId: S }], // lone surrogate
      [{ traceId: T.toUpperCase(), spanId: S }, T, S], // lowercased
      [{ traceId: T + "0", spanId: S }], // 33 digits
      [{ traceId: "0".repeat(32), spanId: S }],
      [{ traceId: T, spanId: mid(S, "g") }], // same slot and last character
      [{ traceId: T, spanId: mid(S, "\udc00") }],
      [{ traceId: T, spanId: mid(S, "\u0630") }], // 0x30 + 0x600
      [{ traceId: T, spanId: "\u0161bc067aa0ba902b7" }], // slot of S by & 0x7f
      [{ traceId: T, spanId: "abc067aa0ba902b\u0137" }], // last char & 0xff
      [{ traceId: T, spanId: S.toUpperCase() }, T, S],
      [{ traceId: T, spanId: S.toUpperCase() }, T, S],
      [{ traceId: T, spanId: S.slice(0, 15) }], // 15 digits
      // deno-lint-ignore no-explicit-any
      [{ traceId: T, spanId: new String(S) as any }],
      // deno-lint-ignore no-explicit-any
      [{ traceId: T, spanId: { toString: () => S } as any }],
      [{ traceId: T }], // half a pair
      [{ spanId: S }],
      [hostile], // traceId unreadable: half a pair
      [{ traceId: "0".repeat(32), spanId: "0".repeat(16) }],
      [{ traceId: T, spanId: S }, T, S],
      [{ traceId: T, spanId: S2 }, T, S2],
    ];
    for (const [record] of steps) logger.emit(record);
    await logs.forceFlush();
    assert.deepEqual(
      exporter.items.map((r) => [r.traceId, r.spanId]),
      steps.map((s) => [s[1], s[2]]),
    );
    assert.equal(logs.stats.invalidTraceContexts, 16);
    assert.equal(logs.stats.invalidFields, 1); // the throwing getter
  });

  it("drops invalid trace ids and severities instead of passing them on", () => {
    const p = new Recording();
    new LoggerProvider({ resource, processors: [p], env: envOf({}) }).getLogger(
      "t",
    ).emit({
      severityNumber: 30,
      traceId: "ABC",
      spanId: "b7ad6b7169203331",
      timestamp: -5,
    });
    assert.equal(p.records[0].severityNumber, 0);
    assert.equal(p.records[0].traceId, undefined);
    assert.equal(p.records[0].spanId, undefined);
    assert.equal(p.records[0].timeUnixMs, 0);
    assert.equal(p.records[0].timeNanosInMs, 0);
  });

  it("answers enabled() from its processors and passes severity and event name", () => {
    const a = new Recording();
    const b = new Recording();
    a.answer = false;
    b.answer = false;
    const logger = new LoggerProvider({
      resource,
      processors: [a, b],
      env: envOf({}),
    }).getLogger("t");
    assert.equal(logger.enabled(9, "evt"), false);
    assert.deepEqual(a.asked, [[9, "evt"]]);
    b.answer = true;
    assert.equal(logger.enabled(5), true);
    const plain = {
      onEmit() {},
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    assert.equal(
      new LoggerProvider({ resource, processors: [plain], env: envOf({}) })
        .getLogger("t").enabled(1),
      true,
    );
    assert.equal(
      new LoggerProvider({ resource, env: envOf({}) }).getLogger("t").enabled(
        1,
      ),
      false,
    );
  });

  it("contains a processor that throws, counts it, reports it once and keeps going", () => {
    const d = collect();
    const after = new Recording();
    const throwing: LogRecordProcessor = {
      onEmit() {
        throw new Error("bad processor");
      },
      enabled() {
        throw new Error("bad enabled");
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const provider = new LoggerProvider({
      resource,
      processors: [throwing, after],
      diagnostics: d.sink,
      env: envOf({}),
    });
    const logger = provider.getLogger("t");
    logger.emit({ body: 1 });
    logger.emit({ body: 2 });
    assert.equal(logger.enabled(9), true);
    assert.equal(after.records.length, 2);
    assert.equal(provider.stats.processorErrors, 3);
    assert.equal(d.seen.length, 1);
  });

  it("stops emitting after shutdown, and shutdown is idempotent", async () => {
    const exporter = new InMemoryExporter<LogRecordData>();
    let shutdowns = 0;
    const processor = new SimpleLogRecordProcessor(exporter);
    const counting: LogRecordProcessor = {
      onEmit() {},
      forceFlush: () => Promise.resolve(),
      shutdown: () => {
        shutdowns++;
        return Promise.resolve();
      },
    };
    const provider = new LoggerProvider({
      resource,
      processors: [processor, counting],
      env: envOf({}),
    });
    const logger = provider.getLogger("t");
    logger.emit({ body: "kept" });
    await provider.shutdown();
    await provider.shutdown();
    logger.emit({ body: "ignored" });
    assert.equal(logger.enabled(9), false);
    assert.deepEqual(exporter.items.map((r) => r.body), ["kept"]);
    assert.equal(shutdowns, 1);
  });

  it("is async-disposable", async () => {
    const exporter = new InMemoryExporter<LogRecordData>();
    {
      await using provider = new LoggerProvider({
        resource,
        processors: [new SimpleLogRecordProcessor(exporter)],
        env: envOf({}),
      });
      provider.getLogger("t").emit({ body: "x" });
    }
    assert.equal(exporter.items.length, 1);
  });

  it("rejects a processor that is not an object", () => {
    assert.throws(
      () => new LoggerProvider({ processors: [null as never], env: envOf({}) }),
      /processors\[0\] is not a processor/,
    );
  });
});
