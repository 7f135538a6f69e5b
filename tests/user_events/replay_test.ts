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

const PATH = "/fake/tracing/user_events_data";
const LEVEL_NAMES = ["L1", "L2", "L3", "L4", "L5"];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

const SHAPES: readonly (readonly string[])[] = [
  ["user.id", "http.request.method", "retry"],
  ["user.id", "http.request.method", "retry"],
  ["a", "b"],
  [],
  ["k;1", "k_1", "x"], // equal written names: the second is a duplicate
  ["event_id", "m"],
  ["only"],
];

function text(rnd: () => number, max: number): string {
  const n = Math.floor(rnd() * max);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rnd();
    s += r < 0.9
      ? String.fromCharCode(32 + Math.floor(rnd() * 95))
      : r < 0.95
      ? "é"
      : r < 0.98
      ? "😀"
      : "\ud800"; // a lone surrogate
  }
  return s;
}

function value(rnd: () => number, kind: number): unknown {
  switch (kind) {
    case 0:
      return text(rnd, rnd() < 0.05 ? 400 : 12);
    case 1:
      return rnd() < 0.5;
    case 2:
      return Math.floor(rnd() * 2 ** 40) - 2 ** 39;
    case 3:
      return rnd() < 0.1 ? NaN : rnd() * 1000;
    case 4:
      return rnd() < 0.8 ? BigInt(Math.floor(rnd() * 1e6)) : 2n ** 70n;
    case 5:
      return undefined;
    case 6:
      return { nested: 1 };
    default:
      return null;
  }
}

const BASE_MS = 1_704_164_645_678;

function timestamp(rnd: () => number, i: number): unknown {
  const r = rnd();
  if (r < 0.55) return BASE_MS + Math.floor(i / 7); // ms, same second often
  if (r < 0.7) return BigInt(BASE_MS + i) * 1_000_000n + BigInt(i % 1000);
  if (r < 0.8) return [1_704_164_645 + i, (i * 7919) % 1e9];
  if (r < 0.88) return new Date(BASE_MS + i * 1000);
  if (r < 0.92) return (BASE_MS + i) + 0.25; // fractional ms
  if (r < 0.95) return 0; // epoch: taken as no timestamp, then observed time
  return -5; // invalid: counted, then observed time
}

/** A seeded record whose shape repeats the previous one's most of the time. */
function records(seed: number, n: number): LogRecord[] {
  const rnd = mulberry32(seed);
  const out: LogRecord[] = [];
  let shape = SHAPES[0];
  let kinds = [2, 0, 1];
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.15) {
      shape = SHAPES[Math.floor(rnd() * SHAPES.length)];
      kinds = shape.map(() =>
        rnd() < 0.9 ? Math.floor(rnd() * 4) : Math.floor(rnd() * 8)
      );
    }
    const attributes: Record<string, unknown> = {};
    for (let k = 0; k < shape.length; k++) {
      attributes[shape[k]] = value(rnd, rnd() < 0.97 ? kinds[k] : 0);
    }
    const r = rnd();
    const record: LogRecord = {
      timestamp: timestamp(rnd, i) as LogRecord["timestamp"],
      severityNumber: 1 + Math.floor(rnd() * 24),
      body: (r < 0.7
        ? text(rnd, rnd() < 0.05 ? 600 : 30)
        : value(rnd, Math.floor(rnd() * 8))) as LogRecord["body"],
      attributes: (rnd() < 0.95 ? attributes : undefined) as
        | LogRecord["attributes"]
        | undefined,
    };
    if (rnd() < 0.8) {
      record.severityText = rnd() < 0.97 ? "INFO" : "WARN";
    }
    if (rnd() < 0.02) {
      (record as Record<string, unknown>).severityText = 7; // invalid: counted
    }
    if (rnd() < 0.3) {
      record.traceId = rnd() < 0.9
        ? "4bf92f3577b34da6a3ce929d0e0e4736"
        : "4BF92F3577B34DA6A3CE929D0E0E4736"; // lowercased
      record.spanId = rnd() < 0.95 ? "00f067aa0ba902b7" : "zz";
      if (rnd() < 0.1) {
        record.traceFlags = rnd() < 0.5 ? 1 : 999;
      }
    }
    if (rnd() < 0.02) {
      record.eventName = "checkout.done";
    }
    if (rnd() < 0.01) {
      Object.defineProperty(record, "body", {
        get() {
          throw new Error("hostile getter");
        },
        enumerable: true,
      });
    }
    out.push(record);
  }
  return out;
}

const COUNTERS = [
  "written",
  "droppedTooLarge",
  "truncatedValues",
  "cappedFields",
  "duplicateFields",
  "droppedEncodeError",
] as const;

function sanitizerCounts(s: AttributeSanitizer) {
  return {
    invalid: s.invalid,
    converted: s.converted,
    truncated: s.truncated,
    cut: s.cut,
    invalidFields: s.invalidFields,
    invalidTimes: s.invalidTimes,
    invalidTraceContexts: s.invalidTraceContexts,
  };
}

function compare(
  options: Partial<UserEventsProcessorOptions>,
  limits: ConstructorParameters<typeof AttributeSanitizer>[0],
  seed: number,
  n: number,
): void {
  const live = open(options);
  const liveContext = context(limits);
  const freshContext = context(limits);
  const totals = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
  const list = records(seed, n);
  for (let i = 0; i < list.length; i++) {
    const record = list[i];
    const before = live.fake.writes.length;
    live.processor.onEmit(record, liveContext);
    const fresh = open(options);
    fresh.processor.onEmit(record, freshContext);
    const a = live.fake.writes.slice(before);
    const b = fresh.fake.writes;
    assert.equal(a.length, b.length, `record ${i}: writes`);
    if (a.length === 1) {
      const same = a[0].event.length === b[0].event.length &&
        a[0].event.every((x, j) => x === b[0].event[j]);
      if (!same) {
        // Show the difference decoded; a timestamp-less record (observed
        // time) differs only in its time text.
        const da = decodedFieldsToObject(
          decodeEventHeader(`x_L${a[0].event[7]}K1`, a[0].event).fields,
        );
        const db = decodedFieldsToObject(
          decodeEventHeader(`x_L${b[0].event[7]}K1`, b[0].event).fields,
        );
        const ta = (da.PartA as Record<string, unknown>).time;
        const tb = (db.PartA as Record<string, unknown>).time;
        (da.PartA as Record<string, unknown>).time = "now";
        (db.PartA as Record<string, unknown>).time = "now";
        assert.deepEqual(da, db, `record ${i}: fields`);
        const observed = [0, -5].includes(record.timestamp as number) ||
          record.timestamp === undefined;
        assert.ok(observed, `record ${i}: time ${ta} vs ${tb}`);
      }
    }
    const s = fresh.processor.stats;
    for (const c of COUNTERS) totals[c] += s[c];
  }
  const s = live.processor.stats;
  for (const c of COUNTERS) assert.equal(s[c], totals[c], c);
  assert.deepEqual(
    sanitizerCounts(liveContext.sanitizer),
    sanitizerCounts(freshContext.sanitizer),
  );
}

describe("user_events replay of a repeated shape", () => {
  it("writes the bytes and counts of the full encoder (seeded, 400 records)", () => {
    compare({}, {}, 0x5eed, 400);
  });

  it("the same under a small event budget (cuts) and attribute limits", () => {
    compare(
      { maxEventSize: 512 },
      { attributeCountLimit: 2, attributeValueLengthLimit: 8 },
      0xbeef,
      300,
    );
  });

  it("the same with resource attributes copied into PartC (never replayed)", () => {
    compare({ resourceAttributes: ["deployment.environment"] }, {}, 7, 150);
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
