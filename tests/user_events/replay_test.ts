// The replay path (a record whose shape repeats the last event's is written
// as data only, from the record as given) against the full encoder: for
// thousands of seeded records of mixed shapes and hostile values, in runs
// that repeat shapes, the long-lived processor (which replays) must write
// exactly the bytes a fresh processor (which never replays) writes, and
// count exactly the same.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeLibc } from "./_fake_libc.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsProcessor,
  type UserEventsProcessorOptions,
} from "../../processors/user_events/mod.ts";
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

const PATH = "/fake/tracing/user_events_data";
const LEVEL_NAMES = ["L1", "L2", "L3", "L4", "L5"];

function open(options: Partial<UserEventsProcessorOptions>) {
  const fake = new FakeLibc();
  const processor = new UserEventsProcessor(fake, {
    providerName: "replay",
    userEventsDataPath: PATH,
    diagnostics: () => {},
    ...options,
  });
  for (const l of LEVEL_NAMES) fake.enable(`replay_${l}K1`);
  return { fake, processor };
}

const RESOURCE = new Resource({
  "service.name": "checkout",
  "service.instance.id": "i-1",
  "deployment.environment": "prod",
});

function context(limits: ConstructorParameters<typeof AttributeSanitizer>[0]) {
  return new LogEmitContext(RESOURCE, { name: "scope" }, {
    sanitizer: new AttributeSanitizer(limits),
    diagnostics: () => {},
  });
}

const COUNTERS = [
  "written",
  "droppedTooLarge",
  "truncatedValues",
  "cappedFields",
  "duplicateFields",
  "droppedEncodeError",
] as const;

/** The fields of a user_events event, decoded. */
function fieldsOf(event: Uint8Array) {
  return decodedFieldsToObject(
    decodeEventHeader(`x_L${event[7]}K1`, event).fields,
  ) as { PartA: Record<string, unknown> };
}

function compare(
  options: Partial<UserEventsProcessorOptions>,
  limits: ConstructorParameters<typeof AttributeSanitizer>[0],
  list: readonly LogRecord[],
  replayedAtLeast?: number,
): void {
  const counted = replayedAtLeast === undefined
    ? undefined
    : countSeverityReads(list);
  const live = open(options);
  const liveContext = context(limits);
  const freshContext = context(limits);
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
      return { writes: fresh.fake.writes, stats: fresh.processor.stats };
    },
    counters: COUNTERS,
    same: (a, b) =>
      a.event.length === b.event.length &&
      a.event.every((x, j) => x === b.event[j]),
    fields: (w) => fieldsOf(w.event),
    sanitizers: [liveContext.sanitizer, freshContext.sanitizer],
    replayed: counted && { reads: counted.reads, atLeast: replayedAtLeast! },
  });
}

describe("user_events replay of a repeated shape", () => {
  it("writes the bytes and counts of the full encoder (seeded, 400 records)", () => {
    compare({}, {}, records(0x5eed, 400));
  });

  it("replays most of a run of plain records with the full encoder's bytes, time text included (seeded, 400 records)", () => {
    compare({}, {}, replayableRecords(0x5eed, 400), 360);
    compare({}, {}, replayableRecords(0xbeef, 400), 360);
  });

  it("the same for int32 edges, -0 and ints past int32 in a replayed int slot", () => {
    const ints = [
      0,
      -0,
      1,
      -1,
      4242,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 32 - 1,
      2 ** 32,
      -(2 ** 32),
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      65_536,
      -65_536,
      0.5,
      -1.5,
      2 ** 53,
      NaN,
      Infinity,
      -Infinity,
      7,
    ];
    const list: LogRecord[] = ints.map((n, i) => ({
      timestamp: BASE_MS + i,
      severityNumber: 9,
      body: "b",
      attributes: { n, s: "x" },
    }));
    compare({}, {}, list);
  });

  it("the same for times within, across, at the start of and back before the last second", () => {
    // A whole second after the time origin: smaller numbers are taken as
    // performance.now() readings, relative to it.
    const s = (Math.floor(performance.timeOrigin / 1000) + 10) * 1000;
    const times: LogRecord["timestamp"][] = [
      s + 1,
      s + 999,
      s,
      s + 1000,
      s + 1999,
      s + 2000,
      s + 5,
      s - 1,
      s - 1000,
      s - 999,
      s + 0.25,
      s + 1000.5,
      1,
      999,
      1000,
      s + 1,
      s + 1,
      86_400_000,
      s + 8,
      [Math.floor(s / 1000) + 3, 0],
      [Math.floor(s / 1000) + 3, 1],
      [Math.floor(s / 1000) + 3, 999_000_000],
      s + 3999,
      BigInt(s) * 1_000_000n,
      BigInt(s + 7) * 1_000_000n + 999_999n,
      s + 7,
    ];
    const list: LogRecord[] = times.map((timestamp, i) => ({
      timestamp,
      severityNumber: 9,
      body: `b${i % 3}`,
      attributes: { n: i },
    }));
    compare({}, {}, list);
    // With a trace context the time text sits at the same offset; without
    // it too: one run of each shape after the other.
    compare({}, {}, [
      ...list,
      ...list.map((r) => ({
        ...r,
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
      })),
    ]);
  });

  it("the same under a small event budget (cuts) and attribute limits", () => {
    compare(
      { maxEventSize: 512 },
      { attributeCountLimit: 2, attributeValueLengthLimit: 8 },
      records(0xbeef, 300),
    );
  });

  it("the same with resource attributes copied into PartC (never replayed)", () => {
    compare(
      { resourceAttributes: ["deployment.environment"] },
      {},
      records(7, 150),
    );
  });

  it("null-prototype and deleted-key attributes between plain ones: the full encoder's bytes", () => {
    compare({}, {}, oddAttributeRecords());
    compare({}, { attributeCountLimit: 5 }, oddAttributeRecords());
  });

  it("deleted-key attributes in every position, count and run length: the full encoder's bytes", () => {
    compare({}, {}, deletedKeyRecords());
    compare({}, { attributeCountLimit: 3 }, deletedKeyRecords());
  });

  it("deleted-key attributes write the bytes of the same keys as a literal, and a plain emit after them too", () => {
    // Two long-lived processors fed the same records, one with the
    // deleted-key objects as given (dictionary mode on V8), one with each
    // rebuilt as a literal of the same keys in the same order (fast mode):
    // every event byte for byte, including the plain records after a run of
    // deleted-key ones, once the replay has met dictionary-mode objects.
    // (Records without a time of their own get the time of emit, which
    // differs between the two runs: those get one.)
    const timed = (r: LogRecord): LogRecord =>
      [0, -5, undefined].includes(r.timestamp as number | undefined)
        ? { ...r, timestamp: BASE_MS }
        : r;
    const given = deletedKeyRecords().map(timed);
    const literal = given.map((r) => ({
      ...r,
      attributes: r.attributes === undefined
        ? undefined
        : Object.fromEntries(Object.entries(r.attributes)),
    }));
    const tail = records(0x5eed, 200).map(timed);
    const a = open({});
    const b = open({});
    const ca = context({});
    const cb = context({});
    for (const r of [...given, ...tail]) a.processor.onEmit(r, ca);
    for (const r of [...literal, ...tail]) b.processor.onEmit(r, cb);
    assert.equal(a.fake.writes.length, given.length + tail.length);
    assert.equal(a.fake.writes.length, b.fake.writes.length);
    for (let i = 0; i < a.fake.writes.length; i++) {
      assert.deepEqual(
        a.fake.writes[i].event,
        b.fake.writes[i].event,
        `event ${i}`,
      );
    }
    assert.deepEqual(a.processor.stats, b.processor.stats);
  });

  it("a bigint beyond int64 after a bigint shape is the sanitizer's string, not a replay", () => {
    const at = (n: bigint, body: unknown): LogRecord => ({
      timestamp: BASE_MS,
      severityNumber: 9,
      body: body as LogRecord["body"],
      attributes: { n },
    });
    const list = [
      at(5n, 1n),
      at(2n ** 70n, 1n),
      at(6n, 2n),
      at(-(2n ** 63n) - 1n, 2n),
      at(7n, 3n),
      at(8n, 2n ** 64n - 1n),
    ];
    compare({}, {}, list);
    compare({}, { attributeValueLengthLimit: 100 }, list);
  });

  it("values identical to the last event's (strings skipped in place) under limits that change between events", () => {
    // The replay skips a string identical (===) to the last event's at the
    // same offset before any kind test (attribute slots and the body); its
    // length was checked against the limit of that event, so another limit
    // must check again.
    const live = open({});
    const long = context({});
    const short = context({ attributeValueLengthLimit: 3 });
    const list = changingLimitRecords(true);
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
      assert.deepEqual(a[0].event, b[0].event, `record ${i}: bytes`);
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
      BASE_MS,
    );
    const events = live.fake.writes.map((w) =>
      decodedFieldsToObject(decodeEventHeader("x_L4K1", w.event).fields)
    );
    assert.deepEqual(
      events.map((e) => [(e.PartB as { body: string }).body, e.PartC]),
      [
        ["first", { a: 1, b: "x" }],
        ["inner", { other: true }],
        ["outer", { a: 2, b: "y" }],
      ],
    );
    assert.equal(live.processor.stats.written, 3);
  });

  it("replays the shape after the first event and takes the active span's ids", async () => {
    const live = open({});
    const ctx = context({});
    const span = {
      spanContext: () => ({
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        traceFlags: 1,
      }),
    };
    const record = (body: string): LogRecord => ({
      timestamp: BASE_MS,
      severityNumber: 9,
      body,
      attributes: { "user.id": 1, "ok": true },
    });
    await withActiveSpan(span, () => {
      live.processor.onEmit(record("one"), ctx);
      live.processor.onEmit(record("two"), ctx);
      live.processor.onEmit(record("three, longer"), ctx);
    });
    live.processor.onEmit(record("no span"), ctx);
    const decoded = live.fake.writes.map((w) =>
      decodedFieldsToObject(decodeEventHeader("x_L4K1", w.event).fields)
    );
    assert.deepEqual(decoded.map((d) => (d.PartB as { body: string }).body), [
      "one",
      "two",
      "three, longer",
      "no span",
    ]);
    for (const d of decoded.slice(0, 3)) {
      assert.equal(
        (d.PartA as { ext_dt_traceId: string }).ext_dt_traceId,
        "0af7651916cd43dd8448eb211c80319c",
      );
    }
    assert.equal(
      (decoded[3].PartA as Record<string, unknown>).ext_dt_traceId,
      undefined,
    );
  });

  it("a record without a timestamp gets the time of emit", () => {
    const live = open({});
    const ctx = context({});
    const before = Date.now();
    for (let i = 0; i < 3; i++) {
      live.processor.onEmit({ severityNumber: 9, body: `b${i}` }, ctx);
    }
    const after = Date.now();
    for (const w of live.fake.writes) {
      const d = decodedFieldsToObject(
        decodeEventHeader("x_L4K1", w.event).fields,
      );
      const t = Date.parse((d.PartA as { time: string }).time);
      assert.ok(
        t >= before - 1 && t <= after + 1,
        `${t} in [${before}, ${after}]`,
      );
    }
  });
});
