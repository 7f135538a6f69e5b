// The ETW replay (a log record whose shape repeats the last event's is
// written as payload only, from the record as given) against the full
// encoder: for seeded records of mixed shapes and hostile values, in runs
// that repeat shapes, the long-lived processor (which replays) must hand
// EventWriteTransfer exactly the descriptor, metadata and payload a fresh
// processor (which never replays) hands it, and count exactly the same.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeAdvapi32, hex } from "./_fake_advapi32.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  type EtwProcessorOptions,
  type EtwProcessorStats,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import {
  LogEmitContext,
  type LogRecord,
  Resource,
  withActiveSpan,
} from "../../mod.ts";
import { AttributeSanitizer } from "../../pipeline/attributes.ts";
import {
  BASE_MS,
  changingLimitRecords,
  countSeverityReads,
  deletedKeyRecords,
  emitNestedInReplay,
  oddAttributeRecords,
  records,
  replayableRecords,
  underShortLimit,
} from "../hostile/_replay_records.ts";
import { compareReplay } from "../hostile/_replay_compare.ts";

function open(options: Partial<EtwProcessorOptions>) {
  const fake = new FakeAdvapi32();
  fake.enabledAnswer = 1;
  const processor = new EtwProcessor(fake, {
    providerName: "Replay.Provider",
    diagnostics: () => {},
    ...options,
  });
  return { fake, processor };
}

const RESOURCE = new Resource({
  "service.name": "checkout",
  "service.instance.id": "i-1",
  "deployment.environment": "prod",
});

function context(
  limits: ConstructorParameters<typeof AttributeSanitizer>[0],
  resource: Resource = RESOURCE,
) {
  return new LogEmitContext(resource, { name: "scope" }, {
    sanitizer: new AttributeSanitizer(limits),
    diagnostics: () => {},
  });
}

const COUNTERS: readonly (keyof EtwProcessorStats)[] = [
  "written",
  "writeErrors",
  "oversize",
  "truncatedValues",
  "droppedAttributes",
  "encodeErrors",
  "invalidRecords",
  "duplicateFields",
  "eventNameFallbacks",
];

function decoded(blobs: { bytes: Uint8Array }[]) {
  const event = decodeTraceLogging(blobs[1].bytes, blobs[2].bytes);
  const fields = traceLoggingFieldsToObject(event.fields) as Record<
    string,
    Record<string, unknown>
  >;
  return { name: event.name, ...fields, PartA: fields.PartA };
}

function compare(
  options: Partial<EtwProcessorOptions>,
  limits: ConstructorParameters<typeof AttributeSanitizer>[0],
  list: readonly LogRecord[],
  resource: Resource = RESOURCE,
  replayedAtLeast?: number,
): void {
  const counted = replayedAtLeast === undefined
    ? undefined
    : countSeverityReads(list);
  const live = open(options);
  const liveContext = context(limits, resource);
  const freshContext = context(limits, resource);
  compareReplay(list, {
    live: (record) => {
      const before = live.fake.writes.length;
      live.processor.onEmit(record, liveContext);
      return live.fake.writes.slice(before);
    },
    liveStats: () => live.processor.stats,
    fresh: (record) => {
      const fresh = open(options);
      fresh.processor.onEmit(record, freshContext);
      return {
        writes: fresh.fake.writes,
        stats: fresh.processor.stats,
      };
    },
    counters: COUNTERS,
    // The descriptor and metadata byte for byte; the payload carries the time.
    same: (a, b, label) => {
      assert.equal(hex(a.descriptor), hex(b.descriptor), label);
      assert.equal(a.count, 3);
      assert.equal(hex(a.blobs[0].bytes), hex(b.blobs[0].bytes));
      assert.equal(
        hex(a.blobs[1].bytes),
        hex(b.blobs[1].bytes),
        `${label}: metadata`,
      );
      return hex(a.blobs[2].bytes) === hex(b.blobs[2].bytes);
    },
    fields: (w) => decoded(w.blobs),
    sanitizers: [liveContext.sanitizer, freshContext.sanitizer],
    replayed: counted && { reads: counted.reads, atLeast: replayedAtLeast! },
  });
}

describe("ETW replay of a repeated shape", () => {
  it("writes the bytes and counts of the full encoder (seeded, 400 records)", () => {
    compare({}, {}, records(0x5eed, 400));
  });

  it("replays most of a run of plain records with the full encoder's bytes, time text included (seeded, 400 records)", () => {
    compare({}, {}, replayableRecords(0x5eed, 400), RESOURCE, 360);
    compare({}, {}, replayableRecords(0xbeef, 400), new Resource({}), 360);
  });

  it("the same under a small event budget (cuts) and attribute limits", () => {
    compare(
      { maxEventSize: 2048 },
      { attributeCountLimit: 2, attributeValueLengthLimit: 8 },
      records(0xbeef, 300),
    );
  });

  it("the same with resource attributes copied into PartC, another event name, a non-ASCII role", () => {
    compare(
      { resourceAttributes: ["deployment.environment"] },
      {},
      records(7, 120),
    );
    compare({ eventName: "AppLog" }, {}, records(8, 120));
    compare(
      {},
      {},
      records(9, 120),
      new Resource({ "service.name": "kassé", "service.instance.id": 7 }),
    );
    compare({}, {}, records(10, 120), new Resource({}));
  });

  it("null-prototype and deleted-key attributes between plain ones: the full encoder's bytes", () => {
    compare({}, {}, oddAttributeRecords());
    compare({}, { attributeCountLimit: 5 }, oddAttributeRecords());
  });

  it("deleted-key attributes in every position, count and run length: the full encoder's bytes", () => {
    compare({}, {}, deletedKeyRecords());
    compare({}, { attributeCountLimit: 3 }, deletedKeyRecords());
  });

  it("values at the edges of a shape's kinds are not replayed as that kind", () => {
    const at = (n: unknown, body: unknown, text?: string): LogRecord => ({
      timestamp: BASE_MS,
      severityNumber: 9,
      severityText: text,
      body: body as LogRecord["body"],
      attributes: { n } as LogRecord["attributes"],
    });
    compare({}, {}, [
      at(5n, 1n),
      at(2n ** 70n, 1n), // a string
      at(6n, 2n),
      at(2n ** 64n - 1n, 2n), // UINT64
      at(7n, 2n ** 63n), // UINT64 body
      at(1, "ascii", "INFO"),
      at(2, "héllo", "INFO"), // OutType UTF8
      at(3, "ascii", "INFÖ"),
      at(4, "ascii", "INFO"),
      at(2 ** 53, 0.5), // a double
      at(-(2 ** 53) + 1, -0),
      at(null, null),
      at(Uint8Array.of(1), "b"),
      at(true, "b"),
      at(false, "b"),
      at("x".repeat(70_000), "b"), // cut
      at("s", "y".repeat(64_000)), // over the budget: cut
      at("s", "z"),
    ]);
  });

  it("values identical to the last event's (strings skipped in place) under limits that change between events", () => {
    // The replay skips a string identical (===) to the last event's at the
    // same offset before any kind test; its length was checked against the
    // limit of that event, so another limit must check again.
    const live = open({});
    const long = context({});
    const short = context({ attributeValueLengthLimit: 3 });
    const list = changingLimitRecords(false);
    let written = 0;
    for (let i = 0; i < list.length; i++) {
      const ctx = underShortLimit(i) ? short : long;
      const before = live.fake.writes.length;
      const writtenBefore = live.processor.stats.written;
      const truncatedBefore = live.processor.stats.truncatedValues;
      live.processor.onEmit(list[i], ctx);
      const fresh = open({});
      fresh.processor.onEmit(
        list[i],
        ctx === short ? context({ attributeValueLengthLimit: 3 }) : context({}),
      );
      const a = live.fake.writes.slice(before);
      const b = fresh.fake.writes;
      assert.equal(a.length, 1, `record ${i}`);
      assert.equal(b.length, 1, `record ${i}`);
      assert.equal(
        hex(a[0].blobs[1].bytes),
        hex(b[0].blobs[1].bytes),
        `record ${i}: metadata`,
      );
      assert.equal(
        hex(a[0].blobs[2].bytes),
        hex(b[0].blobs[2].bytes),
        `record ${i}: payload`,
      );
      assert.equal(
        live.processor.stats.truncatedValues - truncatedBefore,
        fresh.processor.stats.truncatedValues,
        `record ${i}: truncated`,
      );
      if (live.processor.stats.written > writtenBefore) written++;
    }
    assert.equal(written, list.length);
  });

  it("a record emitted from inside a replayed one (a Proxy trap) leaves both events whole", () => {
    const live = open({});
    const ctx = context({});
    emitNestedInReplay(
      (record) => live.processor.onEmit(record, ctx),
      Math.floor(performance.timeOrigin) + 5000,
    );
    const events = live.fake.writes.map((w) =>
      traceLoggingFieldsToObject(
        decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
      ) as Record<string, Record<string, unknown>>
    );
    assert.deepEqual(events.map((e) => [e.PartB.body, e.PartC]), [
      ["first", { a: 1n, b: "x" }],
      ["inner", { other: true }],
      ["outer", { a: 2n, b: "y" }],
    ]);
    assert.equal(live.processor.stats.written, 3);
  });

  it("replays after the first event: the active span's ids, time text per second", async () => {
    const live = open({});
    const ctx = context({});
    const span = {
      spanContext: () => ({
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        traceFlags: 1,
      }),
    };
    // Date.now()-like (below performance.timeOrigin a number is relative).
    const T = Math.floor(performance.timeOrigin / 1000) * 1000 + 1000;
    const record = (body: string, ms: number): LogRecord => ({
      timestamp: ms,
      severityNumber: 13,
      body,
      attributes: { "user.id": 1, "ok": true },
    });
    await withActiveSpan(span, () => {
      live.processor.onEmit(record("one", T), ctx);
      live.processor.onEmit(record("two", T + 1), ctx);
      live.processor.onEmit(record("three, longer", T + 1000), ctx);
    });
    live.processor.onEmit(record("no span", T + 2000), ctx);
    const events = live.fake.writes.map((w) =>
      traceLoggingFieldsToObject(
        decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
      ) as Record<string, Record<string, unknown>>
    );
    assert.deepEqual(events.map((e) => e.PartB.body), [
      "one",
      "two",
      "three, longer",
      "no span",
    ]);
    assert.deepEqual(events.map((e) => e.PartA.time), [
      new Date(T).toISOString().replace(".000Z", "Z"),
      new Date(T + 1).toISOString(),
      new Date(T + 1000).toISOString().replace(".000Z", "Z"),
      new Date(T + 2000).toISOString().replace(".000Z", "Z"),
    ]);
    for (const e of events.slice(0, 3)) {
      assert.deepEqual(e.PartA.ext_dt, {
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
      });
    }
    assert.equal(events[3].PartA.ext_dt, undefined);
    assert.equal(live.fake.writes[0].descriptor[4], 3); // level of WARN
    assert.equal(live.processor.stats.written, 4);
  });
});
