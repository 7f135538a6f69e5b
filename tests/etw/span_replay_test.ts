// The ETW span replay (a span whose shape repeats the last span event's is
// written as payload only) against the full encoder: for seeded runs of
// spans of mixed shapes and hostile values, the long-lived processor (which
// replays) must hand EventWriteTransfer exactly the descriptor, metadata and
// payload a fresh processor (which never replays) hands it, count exactly
// the same, and the events must decode (with the independent decoder) to
// the span's fields.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeAdvapi32, hex } from "./_fake_advapi32.ts";
import {
  decodeTraceLogging,
  type EtwProcessorOptions,
  type EtwProcessorStats,
  EtwSpanProcessor,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import { formatRfc3339, type ReadableSpan, SpanStatusCode } from "../../mod.ts";
import {
  hostileSpans,
  hugeSpans,
  invalidTimeSpans,
  spans,
} from "../hostile/_replay_spans.ts";

function open(options: Partial<EtwProcessorOptions> = {}) {
  const fake = new FakeAdvapi32();
  fake.enabledAnswer = 1;
  const processor = new EtwSpanProcessor(fake, {
    providerName: "Span.Replay",
    diagnostics: () => {},
    ...options,
  });
  return { fake, processor };
}

const COUNTERS: readonly (keyof EtwProcessorStats)[] = [
  "written",
  "writeErrors",
  "oversize",
  "truncatedValues",
  "droppedAttributes",
  "encodeErrors",
  "invalidRecords",
  "repairedSpans",
  "duplicateFields",
];

function fields(blobs: { bytes: Uint8Array }[]) {
  const event = decodeTraceLogging(blobs[1].bytes, blobs[2].bytes);
  return traceLoggingFieldsToObject(event.fields) as Record<
    string,
    Record<string, unknown>
  >;
}

function compare(
  list: readonly ReadableSpan[],
  options: Partial<EtwProcessorOptions> = {},
): void {
  const live = open(options);
  const totals = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
  for (let i = 0; i < list.length; i++) {
    const before = live.fake.writes.length;
    live.processor.onEnd(list[i]);
    const fresh = open(options);
    fresh.processor.onEnd(list[i]);
    const a = live.fake.writes.slice(before);
    const b = fresh.fake.writes;
    assert.equal(a.length, b.length, `span ${i}: writes`);
    if (a.length === 1) {
      assert.equal(hex(a[0].descriptor), hex(b[0].descriptor), `span ${i}`);
      assert.equal(a[0].count, b[0].count);
      for (let j = 0; j < a[0].blobs.length; j++) {
        const pa = hex(a[0].blobs[j].bytes);
        const pb = hex(b[0].blobs[j].bytes);
        if (pa !== pb) {
          assert.deepEqual(fields(a[0].blobs), fields(b[0].blobs), `span ${i}`);
          assert.fail(`span ${i}: blob ${j} differs\n${pa}\n${pb}`);
        }
      }
    }
    const s = fresh.processor.stats;
    for (const c of COUNTERS) totals[c] += s[c] as number;
  }
  const s = live.processor.stats;
  for (const c of COUNTERS) assert.equal(s[c], totals[c], c);
}

describe("ETW span replay", () => {
  // One test per seed: the three together took 5.1 s on Bun at load 11-15,
  // past bun test's 5 s default.
  for (const seed of [1, 2, 3]) {
    it(`hands EventWriteTransfer the full encoder's bytes and counts (seed ${seed}, 600 spans)`, () => {
      compare(spans(600, seed));
    });
  }

  it("replays most spans of a repeated shape", () => {
    // The full path reads a span's attributes at least twice (encode, then
    // the shape it keeps), a replay once: counted through an own getter on
    // each (trusted) span.
    const list = spans(600, 7);
    let reads = 0;
    for (const span of list) {
      const attributes = span.attributes;
      Object.defineProperty(span, "attributes", {
        get: () => (reads++, attributes),
      });
    }
    compare(list);
    const live = open();
    let replayed = 0;
    for (const span of list) {
      reads = 0;
      live.processor.onEnd(span);
      if (reads === 1) replayed++;
    }
    assert.equal(live.processor.stats.written, list.length);
    assert.ok(replayed > list.length / 3, `replayed ${replayed}`);
  });

  it("the same under a small event budget (cuts and drops)", () => {
    compare([...spans(300, 11), ...hugeSpans()], { maxEventSize: 2048 });
  });

  it("the same with resource attributes copied into PartC (never replayed)", () => {
    compare(spans(200, 5), { resourceAttributes: ["host.name"] });
  });

  it("huge values: cut or dropped as the full encoder", () => {
    const ended = hugeSpans();
    compare(ended);
    compare(ended, { maxEventSize: 2048 });
  });

  it("decodes (independent decoder) to each span's fields", () => {
    const list = spans(300, 9);
    const live = open();
    for (const span of list) live.processor.onEnd(span);
    assert.equal(live.fake.writes.length, list.length);
    for (let i = 0; i < list.length; i++) {
      const span = list[i];
      const o = fields(live.fake.writes[i].blobs);
      const a = o.PartA;
      const b = o.PartB;
      assert.equal(
        a.time,
        formatRfc3339(span.endTimeUnixMs, span.endTimeNanosInMs),
      );
      const dt = a.ext_dt as Record<string, unknown>;
      assert.equal(dt.traceId, span.traceId);
      assert.equal(dt.spanId, span.spanId);
      assert.equal(b.name, span.name.toWellFormed(), `span ${i}`);
      assert.equal(
        b.startTime,
        formatRfc3339(span.startTimeUnixMs, span.startTimeNanosInMs),
      );
      assert.equal(Number(b.kind), span.kind);
      assert.equal(
        Boolean(b.success),
        span.status.code !== SpanStatusCode.ERROR,
      );
      assert.equal(b.parentId, span.parentSpanId);
      if (span.links.length > 0) {
        assert.deepEqual(
          JSON.parse(b.links as string),
          span.links.map((l) => ({ toTraceId: l.traceId, toSpanId: l.spanId })),
        );
      } else assert.equal(b.links, undefined);
      const route = span.attributes["http.route"];
      if (typeof route === "string") {
        assert.equal(o.PartC?.["http.route"], route.toWellFormed());
      }
    }
  });

  it("hand-made spans (throwing getters, Proxies, cycles) are checked, then replayed or not, never thrown", () => {
    const list = hostileSpans().flatMap((s) => [s, s]) as ReadableSpan[];
    compare(list);
    const times = invalidTimeSpans();
    const live = open();
    for (const s of [...list, ...times, ...times]) live.processor.onEnd(s);
    assert.ok(live.processor.spanChecks.invalidTimes >= 4);
    assert.ok(live.processor.stats.written > 0);
    assert.ok(live.processor.stats.repairedSpans > 0);
    assert.ok(live.processor.stats.invalidRecords > 0);
  });
});
