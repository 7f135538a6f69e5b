// Hand-made ReadableSpan objects (not from this library's tracer) handed
// straight to the OS span processors and the OTLP span exporter are checked
// field by field with the tracer's rules: nothing throws, every replacement
// and drop is counted, and what is written decodes (decodeEventHeader,
// decodeTraceLogging, protobufjs) with the repaired values, never garbage.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  isTrustedSpan,
  type ReadableSpan,
  ReadableSpanChecker,
  Resource,
  TracerProvider,
} from "../../mod.ts";
import { OtlpHttpSpanExporter } from "../../exporters/otlp/mod.ts";
import { encodeTraceRequestJson } from "../../exporters/_otlp_json.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  decodeTraceLogging,
  EtwSpanProcessor,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { FakeCollector } from "../otlp/_server.ts";
import { type Decoded, decodeTrace, hex } from "../otlp/_decoder.ts";
import { revokedProxy, sharedLevels, trappedProxy } from "./_hostile.ts";

const quiet = () => {};
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const PARENT_ID = "b7ad6b7169203331";
const START_MS = 1_700_000_013_123;

type Obj = Record<string, unknown>;

/** A well-formed hand-made span: what another SDK could hand over. */
function good(overrides: Obj = {}): Obj {
  return {
    name: "hand-made",
    kind: 2,
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: 1,
    traceState: undefined,
    parentSpanId: PARENT_ID,
    parentIsRemote: false,
    startTimeUnixMs: START_MS,
    startTimeNanosInMs: 456_789,
    endTimeUnixMs: START_MS + 2,
    endTimeNanosInMs: 5,
    attributes: { "http.request.method": "GET", n: 7 },
    droppedAttributesCount: 0,
    events: [{
      name: "ev",
      timeUnixMs: START_MS + 1,
      timeNanosInMs: 1,
      attributes: { e: "x" },
      droppedAttributesCount: 0,
    }],
    droppedEventsCount: 0,
    links: [{
      traceId: TRACE_ID,
      spanId: PARENT_ID,
      traceFlags: 1,
      attributes: {},
      droppedAttributesCount: 0,
    }],
    droppedLinksCount: 0,
    status: { code: 0 },
    resource: new Resource({ "service.name": "svc" }),
    scope: { name: "other-sdk", version: "1.0" },
    ended: true,
    ...overrides,
  };
}

const thrower = (): never => {
  throw new Error("hostile");
};

/** `good()` with `key` behind a throwing getter. */
function throwing(key: string): Obj {
  return Object.defineProperty(good(), key, { get: thrower, enumerable: true });
}

/** Named hostile spans; each either repaired (kept) or dropped. */
function hostileSpans(): [string, unknown, "kept" | "dropped"][] {
  const flipFlop = (() => {
    let n = 0; // a different answer on every read
    return new Proxy(good(), {
      get: (t, k) => (k === "kind" ? (n++ % 2 ? 1 : "server") : t[k as string]),
    });
  })();
  return [
    ["null", null, "dropped"],
    ["a number", 42, "dropped"],
    ["trapped Proxy", trappedProxy(), "dropped"],
    ["revoked Proxy", revokedProxy(), "dropped"],
    ["trace id not hex", good({ traceId: "z".repeat(32) }), "dropped"],
    ["span id all zeros", good({ spanId: "0".repeat(16) }), "dropped"],
    ["trace id a number", good({ traceId: 7 }), "dropped"],
    ["throwing traceId getter", throwing("traceId"), "dropped"],
    ["uppercase ids", good({ traceId: TRACE_ID.toUpperCase() }), "kept"],
    ["kind 'server'", good({ kind: "server" }), "kept"],
    ["kind 1.5", good({ kind: 1.5 }), "kept"],
    ["kind Symbol", good({ kind: Symbol("k") }), "kept"],
    ["kind flips between reads", flipFlop, "kept"],
    ["status code 7", good({ status: { code: 7 } }), "kept"],
    ["status null", good({ status: null }), "kept"],
    [
      "status message a Proxy",
      good({
        status: { code: 2, message: trappedProxy() },
      }),
      "kept",
    ],
    ["throwing status getter", throwing("status"), "kept"],
    ["traceFlags 300", good({ traceFlags: 300 }), "kept"],
    ["traceState 7", good({ traceState: 7 }), "kept"],
    ["traceState not W3C", good({ traceState: "bad state" }), "kept"],
    ["parent id 'xyz'", good({ parentSpanId: "xyz" }), "kept"],
    ["parent id 15 digits", good({ parentSpanId: PARENT_ID.slice(1) }), "kept"],
    ["start NaN", good({ startTimeUnixMs: NaN }), "kept"],
    ["end before start", good({ endTimeUnixMs: START_MS - 5 }), "kept"],
    ["nanos 1e6", good({ endTimeNanosInMs: 1_000_000 }), "kept"],
    ["times as bigint", good({ startTimeUnixMs: BigInt(START_MS) }), "kept"],
    ["start 2^64 ns", good({ startTimeUnixMs: 2 ** 60 }), "kept"],
    ["name a Proxy", good({ name: trappedProxy() }), "kept"],
    ["throwing name getter", throwing("name"), "kept"],
    [
      "attributes with a throwing getter",
      good({
        attributes: Object.defineProperty({ ok: 1 }, "bad", {
          get: thrower,
          enumerable: true,
        }),
      }),
      "kept",
    ],
    [
      "attributes a trapped Proxy",
      good({ attributes: trappedProxy() }),
      "kept",
    ],
    [
      "attributes 24 shared levels",
      good({
        attributes: { deep: sharedLevels(24) },
      }),
      "kept",
    ],
    ["attributes a string", good({ attributes: "x" }), "kept"],
    ["events null inside", good({ events: [null, 5, good().events] }), "kept"],
    [
      "event time NaN",
      good({
        events: [{ name: "e", timeUnixMs: NaN, timeNanosInMs: 0 }],
      }),
      "kept",
    ],
    [
      "events length 2^40",
      good({
        events: new Proxy([], {
          get: (t, k) => (k === "length" ? 2 ** 40 : Reflect.get(t, k)),
        }),
      }),
      "kept",
    ],
    ["events a string", good({ events: "abc" }), "kept"],
    [
      "links with a bad context",
      good({
        links: [{ traceId: "bad", spanId: SPAN_ID }, null, trappedProxy()],
      }),
      "kept",
    ],
    [
      "link trace state 7",
      good({
        links: [{
          traceId: TRACE_ID,
          spanId: SPAN_ID,
          traceFlags: 1,
          traceState: 7,
        }],
      }),
      "kept",
    ],
    [
      "dropped counts -1, NaN, '3'",
      good({
        droppedAttributesCount: -1,
        droppedEventsCount: NaN,
        droppedLinksCount: "3",
      }),
      "kept",
    ],
    [
      "resource a plain object",
      good({
        resource: { attributes: { "service.name": "plain", f: () => 1 } },
      }),
      "kept",
    ],
    ["resource a trapped Proxy", good({ resource: trappedProxy() }), "kept"],
    ["resource null", good({ resource: null }), "kept"],
    ["scope a Proxy", good({ scope: trappedProxy() }), "kept"],
    ["scope null", good({ scope: null }), "kept"],
  ];
}

const KEPT = hostileSpans().filter(([, , o]) => o === "kept").length;
const DROPPED = hostileSpans().length - KEPT;

describe("ReadableSpanChecker: the tracer's rules for hand-made spans", () => {
  it("passes the tracer's own spans through unchanged (a brand check)", async () => {
    const checker = new ReadableSpanChecker();
    let seen: ReadableSpan | undefined;
    await using provider = new TracerProvider({
      processors: [{
        onStart() {},
        onEnd(span: ReadableSpan) {
          seen = span;
        },
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      }],
    });
    provider.getTracer("t").startSpan("own").end();
    assert.ok(seen);
    assert.equal(checker.check(seen), seen);
    assert.equal(isTrustedSpan(seen), true);
    assert.deepEqual(checker.stats.repairedSpans, 0);
  });

  it("keeps a well-formed hand-made span exactly, as a frozen copy", () => {
    const checker = new ReadableSpanChecker();
    const input = good();
    const span = checker.check(input as unknown as ReadableSpan);
    assert.ok(span);
    assert.notEqual(span, input);
    assert.ok(Object.isFrozen(span));
    assert.equal(isTrustedSpan(span), true);
    assert.equal(checker.check(span), span);
    for (
      const key of [
        "name",
        "kind",
        "traceId",
        "spanId",
        "traceFlags",
        "parentSpanId",
        "startTimeUnixMs",
        "startTimeNanosInMs",
        "endTimeUnixMs",
        "endTimeNanosInMs",
        "resource",
      ]
    ) assert.equal((span as unknown as Obj)[key], input[key], key);
    assert.deepEqual(span.attributes, input.attributes);
    assert.deepEqual(span.events, input.events);
    assert.deepEqual(span.links, input.links);
    assert.deepEqual(span.status, { code: 0 });
    assert.deepEqual(span.scope, { name: "other-sdk", version: "1.0" });
    assert.deepEqual(checker.stats, {
      invalidSpans: 0,
      repairedSpans: 0,
      invalidTraceContexts: 0,
      invalidTraceStates: 0,
      invalidKinds: 0,
      invalidStatuses: 0,
      invalidTimes: 0,
      invalidEvents: 0,
      invalidLinks: 0,
      invalidFields: 0,
      invalidValues: 0,
    });
    // Changing the caller's object afterwards changes nothing.
    (input.attributes as Obj).n = () => 1;
    assert.equal(span.attributes.n, 7);
  });

  it("repairs each bad field by the tracer's rule and counts it", () => {
    const checker = new ReadableSpanChecker();
    const check = (o: Obj) => checker.check(o as unknown as ReadableSpan)!;
    assert.equal(
      check(good({ traceId: TRACE_ID.toUpperCase() })).traceId,
      TRACE_ID,
    );
    assert.equal(check(good({ kind: "server" })).kind, 0);
    assert.equal(check(good({ kind: 1.5 })).kind, 0);
    assert.equal(checker.stats.invalidKinds, 2);
    assert.deepEqual(check(good({ status: { code: 7 } })).status, { code: 0 });
    assert.deepEqual(
      check(good({ status: { code: 2, message: 5 } })).status,
      { code: 2 },
    );
    assert.equal(checker.stats.invalidStatuses, 2);
    assert.equal(check(good({ traceFlags: 300 })).traceFlags, 0);
    assert.equal(check(good({ parentSpanId: "xyz" })).parentSpanId, undefined);
    assert.equal(checker.stats.invalidTraceContexts, 2);
    assert.equal(check(good({ traceState: 7 })).traceState, undefined);
    assert.equal(checker.stats.invalidTraceStates, 1);
    const early = check(good({ endTimeUnixMs: START_MS - 5 }));
    assert.deepEqual(
      [early.endTimeUnixMs, early.endTimeNanosInMs],
      [START_MS, 456_789],
    );
    // NaN times become the clock's now. The library's clock is
    // performance.timeOrigin plus a monotonic clock (as OpenTelemetry JS's
    // hrTime()), so it drifts from Date.now() as the wall clock is slewed or
    // stepped, and read behind it once under load in CI: "now" is checked
    // within a second either side, which 0, NaN or the record's other time
    // would all fail.
    const before = Date.now();
    const nan = check(good({ startTimeUnixMs: NaN, endTimeUnixMs: NaN }));
    const after = Date.now();
    for (const ms of [nan.startTimeUnixMs, nan.endTimeUnixMs]) {
      assert.ok(ms >= before - 1000 && ms <= after + 1000, `${ms} is not now`);
    }
    assert.equal(checker.stats.invalidTimes, 3);
    const events = check(good({ events: [null, ...(good().events as [])] }));
    assert.equal(events.events.length, 1);
    assert.equal(events.droppedEventsCount, 1);
    assert.equal(checker.stats.invalidEvents, 1);
    const links = check(good({ links: [{ traceId: "bad", spanId: SPAN_ID }] }));
    assert.equal(links.links.length, 0);
    assert.equal(links.droppedLinksCount, 1);
    assert.equal(checker.stats.invalidLinks, 1);
    const attributes = check(good({ attributes: { ok: 1, f: () => 1 } }));
    assert.deepEqual(attributes.attributes, { ok: 1 });
    assert.equal(attributes.droppedAttributesCount, 1);
    assert.equal(checker.stats.invalidValues, 1);
    const long = check(good({
      events: new Proxy([], {
        get: (t, k) => (k === "length" ? 2 ** 40 : Reflect.get(t, k)),
      }),
    }));
    assert.equal(long.events.length, 0);
    assert.equal(long.droppedEventsCount, 2 ** 40);
    const plain = check(
      good({ resource: { attributes: { "service.name": "p" } } }),
    );
    assert.ok(plain.resource instanceof Resource);
    assert.equal(plain.resource.attributes["service.name"], "p");
    assert.equal(checker.stats.invalidSpans, 0);
    assert.equal(checker.stats.repairedSpans, 14);
  });

  it("never throws, drops only what it cannot identify, and counts both outcomes", () => {
    const checker = new ReadableSpanChecker();
    let kept = 0;
    for (const [name, span, outcome] of hostileSpans()) {
      const out = checker.check(span as ReadableSpan);
      assert.equal(out === undefined ? "dropped" : "kept", outcome, name);
      if (out !== undefined) kept++;
    }
    assert.equal(kept, KEPT);
    assert.equal(checker.stats.invalidSpans, DROPPED);
    // Every kept one here has at least one bad field (uppercase ids included).
    assert.equal(checker.stats.repairedSpans, KEPT);
  });
});

describe("OS span processors: hand-made spans are checked, never corrupt an event", () => {
  it("user_events: every kept span decodes with its repaired fields; drops are counted and add up", () => {
    const fake = new FakeLibc();
    const processor = new UserEventsSpanProcessor(fake, {
      providerName: "hand",
      userEventsDataPath: "/fake",
      diagnostics: quiet,
    });
    fake.enable("hand_L4K1");
    const spans = hostileSpans();
    for (const [, span] of spans) processor.onEnd(span as ReadableSpan);
    processor.onEnd(good() as unknown as ReadableSpan);
    const s = processor.stats;
    assert.equal(s.emitted, spans.length + 1);
    assert.equal(s.droppedInvalidSpan, DROPPED);
    assert.equal(s.written, KEPT + 1);
    assert.equal(s.droppedEncodeError, 0);
    assert.equal(s.repairedSpans, KEPT);
    assert.equal(processor.spanChecks.invalidSpans, DROPPED);
    assert.equal(
      s.emitted,
      s.notEnabled + s.written + s.droppedNoSeverity + s.droppedNoListener +
        s.droppedTooLarge + s.droppedWriteError + s.droppedEncodeError +
        s.droppedInvalidSpan,
    );
    for (const w of fake.writes) {
      const event = decodedFieldsToObject(
        decodeEventHeader("hand_L4K1", w.event).fields,
      ) as Record<string, Obj>;
      assert.equal(event.PartA.ext_dt_traceId, TRACE_ID);
      assert.equal(event.PartA.ext_dt_spanId, SPAN_ID);
      assert.ok([0, 1, 2, 3, 4].includes(event.PartB.kind as number));
      assert.match(String(event.PartA.time), /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
      const parent = event.PartB.parentId;
      assert.ok(parent === undefined || parent === PARENT_ID, String(parent));
    }
    // The last one, well-formed, is written exactly.
    const last = decodedFieldsToObject(
      decodeEventHeader("hand_L4K1", fake.writes.at(-1)!.event).fields,
    ) as Record<string, Obj>;
    assert.equal(last.PartB.name, "hand-made");
    assert.equal(last.PartB.kind, 2);
    assert.equal(last.PartB.startTime, "2023-11-14T22:13:33.123456789Z");
    assert.equal(last.PartA.time, "2023-11-14T22:13:33.125000005Z");
    assert.equal(last.PartB.httpMethod, "GET");
    assert.equal(last.PartC.n, 7);
    processor.shutdown();
  });

  it("ETW: the same, decoded with decodeTraceLogging", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const processor = new EtwSpanProcessor(fake, {
      providerName: "Hand",
      diagnostics: quiet,
    });
    const spans = hostileSpans();
    for (const [, span] of spans) processor.onEnd(span as ReadableSpan);
    processor.onEnd(good() as unknown as ReadableSpan);
    const s = processor.stats;
    assert.equal(s.invalidRecords, DROPPED);
    assert.equal(s.written, KEPT + 1);
    assert.equal(s.encodeErrors, 0);
    assert.equal(s.repairedSpans, KEPT);
    assert.equal(processor.spanChecks.invalidSpans, DROPPED);
    for (const w of fake.writes) {
      const event = traceLoggingFieldsToObject(
        decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
      ) as Record<string, Record<string, Obj>>;
      assert.equal(event.PartA.ext_dt.traceId, TRACE_ID);
      assert.ok([0, 1, 2, 3, 4].includes(Number(event.PartB.kind)));
    }
    const last = traceLoggingFieldsToObject(
      decodeTraceLogging(
        fake.writes.at(-1)!.blobs[1].bytes,
        fake.writes.at(-1)!.blobs[2].bytes,
      ).fields,
    ) as Record<string, Obj>;
    assert.equal(last.PartB.name, "hand-made");
    assert.equal(last.PartB.startTime, "2023-11-14T22:13:33.123456789Z");
    assert.equal(last.PartA.time, "2023-11-14T22:13:33.125000005Z");
    processor.shutdown();
  });
});

describe("OTLP span exporter: hand-made spans among good ones", () => {
  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`${protocol}: kept spans arrive repaired, dropped ones are counted as rejected`, async () => {
      const collector = await FakeCollector.start();
      const exporter = new OtlpHttpSpanExporter({
        env: () => undefined,
        endpoint: collector.url("/v1/traces"),
        protocol,
        diagnostics: quiet,
      });
      const spans = hostileSpans();
      const batch = [
        good({ name: "first" }),
        ...spans.map(([, s]) => s),
        good({ name: "last" }),
      ] as ReadableSpan[];
      const result = await exporter.export(batch, new AbortController().signal);
      assert.equal(result.code, "success");
      assert.equal(result.code === "success" && result.rejected, DROPPED);
      assert.equal(exporter.stats.invalidSpans, DROPPED);
      assert.equal(exporter.stats.repairedSpans, KEPT);
      assert.equal(collector.requests.length, 1);
      const body = collector.requests[0].body;
      const decoded: Decoded[] = protocol === "http/protobuf"
        ? decodeTrace(body).resourceSpans.flatMap((r: Decoded) =>
          r.scopeSpans.flatMap((s: Decoded) => s.spans)
        )
        : JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body))
          .resourceSpans.flatMap((r: Decoded) =>
            r.scopeSpans.flatMap((s: Decoded) => s.spans)
          );
      assert.equal(decoded.length, KEPT + 2);
      const names = decoded.map((s) => s.name);
      assert.ok(names.includes("first") && names.includes("last"));
      for (const s of decoded) {
        const traceId = protocol === "http/protobuf"
          ? hex(s.traceId)
          : s.traceId;
        assert.equal(traceId, TRACE_ID);
        const kind = s.kind ?? 0;
        assert.ok(kind >= 1 && kind <= 5, `kind ${kind}`);
        assert.ok((s.status?.code ?? 0) <= 2);
        assert.match(String(s.startTimeUnixNano), /^\d+$/);
      }
      await exporter.shutdown();
      await collector.close();
    });
  }

  it("JSON encoding of checked spans has no lone surrogate escapes and parses strictly", () => {
    const checker = new ReadableSpanChecker();
    const span = checker.check(
      good({ name: "a\ud800", attributes: { "k\udc00": "v\udbff" } }) as never,
    )!;
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      encodeTraceRequestJson([span]),
    );
    assert.doesNotMatch(text, /\\ud[89a-f]/i);
    assert.equal(
      JSON.parse(text).resourceSpans[0].scopeSpans[0].spans[0].name,
      "a\ufffd",
    );
  });
});
