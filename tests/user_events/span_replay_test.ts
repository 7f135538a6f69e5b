// The span replay (a span whose shape repeats the last span event's is
// written as data only) against the full encoder: for seeded runs of spans
// of mixed shapes and hostile values, the long-lived processor (which
// replays) must write exactly the bytes a fresh processor (which never
// replays) writes, count exactly the same, and the events must decode (with
// the independent decoder) to the span's fields.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeLibc } from "./_fake_libc.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
  type UserEventsProcessorOptions,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  type Attributes,
  formatRfc3339,
  type ReadableSpan,
  Resource,
  SpanStatusCode,
  TracerProvider,
} from "../../mod.ts";
import { EventBuffer } from "../../processors/_eventheader.ts";
import { writeSpanEvent } from "../../processors/_span_replay.ts";
import { revokedProxy, trappedProxy } from "../hostile/_hostile.ts";

const PATH = "/fake/tracing/user_events_data";

function open(options: Partial<UserEventsProcessorOptions> = {}) {
  const fake = new FakeLibc();
  const processor = new UserEventsSpanProcessor(fake, {
    providerName: "sr",
    userEventsDataPath: PATH,
    diagnostics: () => {},
    ...options,
  });
  fake.enable("sr_L4K1");
  return { fake, processor };
}

/** A seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RESOURCES = [
  new Resource({ "service.name": "checkout", "service.instance.id": "i-1" }),
  new Resource({ "service.name": "cart" }),
  new Resource({}),
  new Resource({ "service.name": "caf\u00e9", "host.name": "h" }),
];

const NAMES = [
  "GET /users/:id",
  "GET /users/:id",
  "POST /cart",
  "caf\u00e9 \u{1F600}",
  "lone \ud800 surrogate",
  "x".repeat(70), // the encodeInto path of the replay's string copy
  "",
];

const VALUES: readonly unknown[] = [
  "v",
  "value two",
  "\udc00",
  "\u00e9t\u00e9",
  "y".repeat(100),
  0,
  42,
  -1,
  2 ** 40,
  -(2 ** 53) + 1,
  1.5,
  NaN,
  -Infinity,
  true,
  false,
  123n,
  -(2n ** 63n),
  2n ** 64n + 5n,
  ["a", "b"],
  [1, 2],
  new Uint8Array([1, 2]),
];

const KEYS = [
  "http.route",
  "user.id",
  "a;b",
  "k\0",
  "k\ud800",
  "http.request.method",
  "http.response.status_code",
  "url.full",
  "db.system.name",
  "rpc.system.name",
  "messaging.system",
];

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

/** Spans of a few repeating shapes, with values that change within a shape. */
function spans(count: number, seed: number): ReadableSpan[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T =>
    list[Math.floor(random() * list.length)];
  const ended: ReadableSpan[] = [];
  const providers = RESOURCES.map((resource) =>
    new TracerProvider({
      resource,
      env: () => undefined,
      processors: [{
        onEnd: (s: ReadableSpan) => void ended.push(s),
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      }],
    })
  );
  // A handful of shapes (key lists), so that runs of one shape replay.
  const shapes: string[][] = [];
  for (let i = 0; i < 6; i++) {
    const keys: string[] = [];
    const n = Math.floor(random() * 6);
    for (let j = 0; j < n; j++) {
      const k = pick(KEYS);
      if (!keys.includes(k)) keys.push(k);
    }
    shapes.push(keys);
  }
  const base = 1_704_164_645_000;
  let shape = shapes[0];
  let provider = providers[0];
  let kind = 1;
  let linked = false;
  let parented = true;
  for (let i = 0; i < count; i++) {
    if (random() < 0.1) shape = pick(shapes);
    if (random() < 0.05) provider = pick(providers);
    if (random() < 0.1) kind = Math.floor(random() * 5);
    if (random() < 0.1) linked = !linked;
    if (random() < 0.1) parented = !parented;
    const attributes: Record<string, unknown> = {};
    for (const k of shape) {
      // Mostly the same kind per key, sometimes another.
      attributes[k] = random() < 0.95
        ? (k.length % 3 === 0 ? `v${i % 7}` : k.length % 3 === 1 ? i : true)
        : pick(VALUES);
    }
    const links = linked
      ? Array.from({ length: 1 + Math.floor(random() * 3) }, (_, j) => ({
        context: {
          traceId: TRACE,
          spanId: (0x1000 + i * 4 + j).toString(16).padStart(16, "0"),
          traceFlags: 1,
        },
      }))
      : [];
    const parent = parented
      ? {
        traceId: TRACE,
        spanId: (0x100 + i).toString(16).padStart(16, "a"),
        traceFlags: 1,
      }
      : undefined;
    const start = base + Math.floor(i / 3) * 400 + (i % 3);
    const span = provider.getTracer("t").startSpan(
      random() < 0.9 ? NAMES[i % 3] : pick(NAMES),
      {
        kind: kind as 0,
        attributes: attributes as Attributes,
        links,
        parent,
        startTime: random() < 0.9 ? start : start + 0.000123,
      },
    );
    if (random() < 0.1) span.addEvent("ignored", { a: 1 });
    const s = random();
    if (s < 0.05) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `failed ${i % 4}`,
      });
    } else if (s < 0.07) span.setStatus({ code: SpanStatusCode.ERROR });
    else if (s < 0.09) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: "\u00e9" });
    } else if (s < 0.15) span.setStatus({ code: SpanStatusCode.OK });
    span.end(start + 1 + Math.floor(random() * 1500) + random() / 1000);
  }
  return ended;
}

const COUNTERS = [
  "emitted",
  "droppedTooLarge",
  "truncatedValues",
  "cappedFields",
  "duplicateFields",
  "droppedEncodeError",
  "droppedInvalidSpan",
] as const;

/** Feeds `list` to one long-lived processor and to a fresh one per span; returns how many spans the live one replayed. */
function compare(
  list: readonly ReadableSpan[],
  options: Partial<UserEventsProcessorOptions> = {},
): void {
  const live = open(options);
  const totals: Record<string, number> = Object.fromEntries(
    COUNTERS.map((c) => [c, 0]),
  );
  for (let i = 0; i < list.length; i++) {
    const before = live.fake.writes.length;
    live.processor.onEnd(list[i]);
    const fresh = open(options);
    fresh.processor.onEnd(list[i]);
    const a = live.fake.writes.slice(before);
    const b = fresh.fake.writes;
    assert.equal(a.length, b.length, `span ${i}: writes`);
    if (a.length === 1) {
      const same = a[0].event.length === b[0].event.length &&
        a[0].event.every((x, j) => x === b[0].event[j]);
      if (!same) {
        assert.deepEqual(
          decodedFieldsToObject(
            decodeEventHeader("sr_L4K1", a[0].event).fields,
          ),
          decodedFieldsToObject(
            decodeEventHeader("sr_L4K1", b[0].event).fields,
          ),
          `span ${i}`,
        );
        assert.fail(`span ${i}: the bytes differ`);
      }
    }
    const s = fresh.processor.stats as unknown as Record<string, number>;
    for (const c of COUNTERS) totals[c] += s[c] ?? 0;
  }
  const s = live.processor.stats as unknown as Record<string, number>;
  for (const c of COUNTERS) assert.equal(s[c] ?? 0, totals[c], c);
}

/** Writes `list` through one buffer (replaying) and a fresh buffer each (full encoder); returns the replayed count. */
function replayedCount(
  list: readonly ReadableSpan[],
  maxEventSize?: number,
): number {
  const options = { resourceAttributes: [], maxEventSize };
  const live = new EventBuffer();
  let replayed = 0;
  for (let i = 0; i < list.length; i++) {
    const shape = live.residentSpan;
    const n = writeSpanEvent(live, list[i], options);
    if (shape !== undefined && live.residentSpan === shape) replayed++;
    const fresh = new EventBuffer();
    const m = writeSpanEvent(fresh, list[i], options);
    assert.equal(n, m, `span ${i}: length`);
    if (n > 0) {
      assert.deepEqual(
        live.bytes.subarray(4, n),
        fresh.bytes.subarray(4, m),
        `span ${i}: bytes`,
      );
    }
  }
  return replayed;
}

describe("user_events span replay", () => {
  it("writes the full encoder's bytes and counts (seeded, 3 x 600 spans)", () => {
    for (const seed of [1, 2, 3]) compare(spans(600, seed));
  });

  it("replays most spans of a repeated shape, byte for byte", () => {
    const list = spans(600, 7);
    const replayed = replayedCount(list);
    // Runs of one shape are long (a shape changes on ~15% of the spans,
    // plus links, parents, statuses and hostile values): most replay.
    assert.ok(replayed > list.length / 3, `replayed ${replayed}`);
  });

  it("the same under a small event budget (cuts and drops)", () => {
    const list = spans(300, 11);
    compare(list, { maxEventSize: 512 });
    replayedCount(list, 512);
  });

  it("the same with resource attributes copied into PartC (never replayed)", () => {
    const list = spans(200, 5);
    compare(list, { resourceAttributes: ["host.name", "service.name"] });
  });

  it("decodes (independent decoder) to each replayed span's fields", () => {
    const list = spans(300, 9);
    const live = open();
    for (const span of list) live.processor.onEnd(span);
    assert.equal(live.fake.writes.length, list.length);
    for (let i = 0; i < list.length; i++) {
      const span = list[i];
      const o = decodedFieldsToObject(
        decodeEventHeader("sr_L4K1", live.fake.writes[i].event).fields,
      );
      const a = o.PartA as Record<string, unknown>;
      const b = o.PartB as Record<string, unknown>;
      assert.equal(
        a.time,
        formatRfc3339(span.endTimeUnixMs, span.endTimeNanosInMs),
      );
      assert.equal(a.ext_dt_traceId, span.traceId);
      assert.equal(a.ext_dt_spanId, span.spanId);
      assert.equal(b.name, span.name.toWellFormed(), `span ${i}`);
      assert.equal(
        b.startTime,
        formatRfc3339(span.startTimeUnixMs, span.startTimeNanosInMs),
      );
      assert.equal(b.kind, span.kind);
      assert.equal(b.success, span.status.code !== SpanStatusCode.ERROR);
      assert.equal(b.parentId, span.parentSpanId);
      if (span.links.length > 0) {
        assert.deepEqual(
          JSON.parse(b.links as string),
          span.links.map((l) => ({ toTraceId: l.traceId, toSpanId: l.spanId })),
        );
      } else assert.equal(b.links, undefined);
      const route = span.attributes["http.route"];
      if (typeof route === "string") {
        assert.equal(
          (o.PartC as Record<string, unknown>)["http.route"],
          route.toWellFormed(),
        );
      }
      const status = span.attributes["http.response.status_code"];
      if (typeof status === "number" && Number.isSafeInteger(status)) {
        assert.equal(Number(b.httpStatusCode), status);
      }
    }
  });

  it("huge values: cut or dropped as the full encoder, never replayed past the budget", () => {
    const ended: ReadableSpan[] = [];
    const provider = new TracerProvider({
      env: () => undefined,
      processors: [{
        onEnd: (s: ReadableSpan) => void ended.push(s),
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      }],
    });
    const tracer = provider.getTracer("t");
    for (const size of [10, 60_000, 10, 70_000, 100, 65_400, 10]) {
      tracer.startSpan("big", { attributes: { v: "z".repeat(size) } }).end();
      tracer.startSpan("z".repeat(size), { attributes: { v: "a" } }).end();
    }
    compare(ended);
    compare(ended, { maxEventSize: 2000 });
  });

  it("hand-made spans (throwing getters, Proxies, cycles) are checked, then replayed or not, never thrown", () => {
    const made = spans(4, 13)[0];
    // A hand-made copy: every field an own data property.
    const good: Record<string, unknown> = {};
    for (
      const k of [
        "name",
        "kind",
        "traceId",
        "spanId",
        "traceFlags",
        "traceState",
        "parentSpanId",
        "parentIsRemote",
        "startTimeUnixMs",
        "startTimeNanosInMs",
        "endTimeUnixMs",
        "endTimeNanosInMs",
        "attributes",
        "droppedAttributesCount",
        "events",
        "droppedEventsCount",
        "links",
        "droppedLinksCount",
        "status",
        "resource",
        "scope",
        "ended",
      ] as const
    ) good[k] = made[k];
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const hostile: unknown[] = [
      { ...good },
      { ...good, attributes: cycle },
      {
        ...good,
        get name() {
          throw new Error("getter");
        },
      },
      { ...good, attributes: trappedProxy() },
      { ...good, links: revokedProxy() },
      { ...good, status: trappedProxy() },
      new Proxy({ ...good }, {
        get: (t, k) => k === "kind" ? 99 : Reflect.get(t, k),
      }),
      { ...good, links: [{ traceId: 5, spanId: "x" }] },
      { ...good, kind: "server", attributes: { ...made.attributes } },
      trappedProxy(),
      revokedProxy(),
      null,
      { ...good },
    ];
    // Each twice, so that the second meets its own shape.
    const list = hostile.flatMap((s) => [s, s]) as ReadableSpan[];
    compare(list);
    // Invalid times become "now" (different in each processor): not
    // compared, but written and counted.
    const times = [
      { ...good, endTimeUnixMs: 1e300 },
      { ...good, startTimeNanosInMs: -1 },
    ] as unknown as ReadableSpan[];
    const live = open();
    for (const s of [...list, ...times, ...times]) live.processor.onEnd(s);
    assert.ok(live.processor.spanChecks.invalidTimes >= 4);
    assert.ok(live.processor.stats.emitted > 0);
    assert.ok(live.processor.spanChecks.repairedSpans > 0);
    assert.ok(live.processor.stats.droppedInvalidSpan > 0);
  });
});
