// Seeded property/fuzz tests across every encoder: random hostile log
// records and spans (hostile values, ids, times, kinds, statuses,
// severities, Proxies, throwing getters, shared sub-objects, lone
// surrogates, huge strings), with known good ones among them, thrown at the
// public API and decoded by decoders that are not the encoders' twins:
// protobufjs with the official .proto files at its default recursion limit
// (OTLP protobuf), a strict JSON parse mapped field by field (OTLP/JSON),
// decodeEventHeader (user_events) and decodeTraceLogging (ETW). In the VM,
// tests/kernel/fuzz_kernel_test.ts adds perf-decode.
//
// Properties: nothing throws into the caller; every output decodes; the
// good records in a batch arrive intact; every drop is counted and the
// counters add up; every time either round-trips exactly or is counted.
//
// Seeded (FUZZ_SEED; fast-check prints seed and path on failure, and
// SEED_FUZZ_SEED=<n> replays another seed) with a bounded number of runs.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import protobuf from "protobufjs";
import {
  InMemoryExporter,
  LoggerProvider,
  type LogRecord,
  type LogRecordData,
  type ReadableSpan,
  Resource,
  SimpleLogRecordProcessor,
  SimpleSpanProcessor,
  TracerProvider,
} from "../../mod.ts";
import { encodeLogsRequest } from "../../exporters/_otlp_logs_proto.ts";
import { encodeTraceRequest } from "../../exporters/_otlp_trace_proto.ts";
import {
  encodeLogsRequestJson,
  encodeTraceRequestJson,
} from "../../exporters/_otlp_json.ts";
import { OtlpHttpSpanExporter } from "../../exporters/otlp/mod.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsProcessor,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  EtwSpanProcessor,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { type Decoded, decodeLogs, decodeTrace } from "../otlp/_decoder.ts";
import {
  assertLogsRequest,
  assertSpan,
  flatten,
  jsonToDecoded,
} from "../otlp/_expect.ts";
import { parseRfc3339 } from "../time/_time.ts";
import {
  FUZZ_SEED,
  handMadeSpan,
  materialize,
  notARecord,
  type RecordCase,
  recordCase,
  type SpanCase,
  spanCase,
  type TimeCase,
} from "./_fuzz.ts";

const quiet = () => {};
const RUNS = 25;
const SLOW = { timeout: 300_000 };
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** fast-check parameters: the fixed seed, a bounded run count. */
const params = (numRuns = RUNS): fc.Parameters<unknown> => ({
  seed: FUZZ_SEED,
  numRuns,
  endOnFailure: true,
});

/**
 * A value as every encoder writes it: lone surrogates as U+FFFD, in keys
 * and strings alike (the pipeline keeps the caller's text; encoders fix it),
 * and as protobufjs reads it back.
 */
function wellFormed<T>(value: T): T {
  if (typeof value === "string") return value.toWellFormed() as T;
  // An int64 reads back as a number when it is safe (see plainValue).
  if (
    typeof value === "bigint" && value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
  ) return Number(value) as T;
  if (Array.isArray(value)) return value.map(wellFormed) as T;
  if (
    value === null || typeof value !== "object" || value instanceof Uint8Array
  ) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k.toWellFormed(), {
      value: wellFormed(v),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return out as T;
}

function writtenRecord(r: LogRecordData): LogRecordData {
  return {
    ...r,
    body: wellFormed(r.body),
    attributes: wellFormed(r.attributes),
    severityText: wellFormed(r.severityText),
    eventName: wellFormed(r.eventName),
  };
}

function writtenSpan(s: ReadableSpan): ReadableSpan {
  return {
    name: s.name.toWellFormed(),
    kind: s.kind,
    traceId: s.traceId,
    spanId: s.spanId,
    traceFlags: s.traceFlags,
    traceState: s.traceState,
    parentSpanId: s.parentSpanId,
    parentIsRemote: s.parentIsRemote,
    startTimeUnixMs: s.startTimeUnixMs,
    startTimeNanosInMs: s.startTimeNanosInMs,
    endTimeUnixMs: s.endTimeUnixMs,
    endTimeNanosInMs: s.endTimeNanosInMs,
    attributes: wellFormed(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      ...e,
      name: e.name.toWellFormed(),
      attributes: wellFormed(e.attributes),
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({ ...l, attributes: wellFormed(l.attributes) })),
    droppedLinksCount: s.droppedLinksCount,
    status: wellFormed(s.status),
    resource: s.resource,
    scope: s.scope,
    ended: s.ended,
  };
}

/** Exact ns of a (ms, ns within ms) pair. */
const ns = (ms: number, nanos: number): bigint =>
  BigInt(ms) * 1_000_000n + BigInt(nanos);

/** OTLP/JSON must parse strictly (valid UTF-8, no lone surrogate escapes). */
function strictJson(bytes: Uint8Array): Decoded {
  const text = strictUtf8.decode(bytes);
  assert.doesNotMatch(text, /\\ud[89a-f][0-9a-f]{2}/i, "lone surrogate escape");
  return JSON.parse(text);
}

function countInvalid(...cases: TimeCase[]): number {
  return cases.filter((c) => c.kind === "invalid").length;
}

// ---------------------------------------------------------------------------
// Logs

/** A good record, recognisable by its body, with an exact time. */
function goodRecord(k: number): { record: LogRecord; ns: bigint } {
  const t = 1_700_000_013_123_456_789n + BigInt(k) * 1_001n;
  return {
    record: {
      severityNumber: 9,
      body: `good-${k}`,
      attributes: { good: k, "text": "ok" },
      timestamp: t,
      observedTimestamp: t + 1n,
    },
    ns: t,
  };
}

interface LogBatch {
  readonly cases: readonly (RecordCase | { readonly other: unknown })[];
  readonly goodAt: readonly number[];
}

const logBatch: fc.Arbitrary<LogBatch> = fc.record({
  cases: fc.array(
    fc.oneof(
      { weight: 5, arbitrary: recordCase },
      { weight: 1, arbitrary: notARecord.map((other) => ({ other })) },
    ),
    { minLength: 1, maxLength: 6 },
  ),
  goodAt: fc.array(fc.nat(7), { minLength: 1, maxLength: 3 }),
});

async function runLogBatch(batch: LogBatch): Promise<void> {
  const memory = new InMemoryExporter<LogRecordData>();
  const simple = new SimpleLogRecordProcessor(memory, { maxQueueSize: 64 });
  const libc = new FakeLibc();
  const ue = new UserEventsProcessor(libc, {
    providerName: "fuzz",
    userEventsDataPath: "/fake",
    diagnostics: quiet,
  });
  for (const r of libc.registrations) libc.enable(r.name);
  const advapi = new FakeAdvapi32();
  advapi.enabledAnswer = 1;
  const etw = new EtwProcessor(advapi, {
    providerName: "Fuzz",
    diagnostics: quiet,
  });
  const provider = new LoggerProvider({
    resource: new Resource({ "service.name": "fuzz" }),
    processors: [simple, ue, etw],
    diagnostics: quiet,
  });
  const logger = provider.getLogger("fuzz");

  // Interleave good records at the chosen positions.
  type Emitted =
    | { kind: "good"; k: number; ns: bigint }
    | { kind: "case"; c: RecordCase }
    | { kind: "other"; isObject: boolean };
  const emitted: Emitted[] = [];
  const goods = [...new Set(batch.goodAt)].sort((a, b) => a - b);
  let k = 0;
  const emitGood = () => {
    const g = goodRecord(k);
    emitted.push({ kind: "good", k, ns: g.ns });
    k++;
    assert.doesNotThrow(() => logger.emit(g.record));
  };
  batch.cases.forEach((c, i) => {
    while (goods.length > 0 && goods[0] <= i) {
      goods.shift();
      emitGood();
    }
    if ("other" in c) {
      emitted.push({
        kind: "other",
        isObject: c.other !== null && typeof c.other === "object",
      });
      assert.doesNotThrow(() => logger.emit(c.other as LogRecord));
    } else {
      emitted.push({ kind: "case", c });
      assert.doesNotThrow(() => logger.emit(c.record as LogRecord));
    }
  });
  while (goods.length > 0) {
    goods.shift();
    emitGood();
  }
  const nonObjects =
    batch.cases.filter((c) =>
      "other" in c && (c.other === null || typeof c.other !== "object")
    ).length;
  const offered = emitted.length - nonObjects;

  // --- Counters add up.
  assert.equal(provider.stats.invalidRecords, nonObjects);
  const expectedInvalidTimes = batch.cases.reduce(
    (n, c) => n + ("other" in c ? 0 : countInvalid(c.timestamp, c.observed)),
    0,
  );
  assert.equal(
    provider.stats.invalidTimes,
    expectedInvalidTimes,
    "invalidTimes",
  );
  await provider.forceFlush();
  const s = simple.stats;
  assert.equal(s.invalid + s.dropped + s.accepted, offered, JSON.stringify(s));
  const records = memory.items;
  assert.equal(records.length, s.accepted);
  assert.equal(records.length, offered);
  const us = ue.stats;
  assert.equal(us.emitted, offered);
  assert.equal(us.droppedEncodeError, 0, "user_events encode errors");
  assert.equal(
    us.notEnabled + us.written + us.droppedNoSeverity + us.droppedNoListener +
      us.droppedTooLarge + us.droppedWriteError + us.droppedEncodeError,
    offered,
  );
  const es = etw.stats;
  assert.equal(es.encodeErrors, 0, "ETW encode errors");
  assert.equal(
    es.written + es.notEnabled + es.writeErrors + es.oversize +
      es.encodeErrors + es.afterShutdown + es.unsupported + es.invalidRecords,
    offered,
  );

  // --- OTLP protobuf (protobufjs) and JSON (strict parse) both decode to
  // exactly what the pipeline holds, field by field.
  assert.equal(protobuf.util.recursionLimit, 100);
  const written = records.map(writtenRecord);
  const proto = decodeLogs(encodeLogsRequest(records));
  assertLogsRequest(proto, written);
  const json = jsonToDecoded(strictJson(encodeLogsRequestJson(records)));
  assertLogsRequest(json, written);

  // --- Times round-trip exactly or are counted (the oracle is _fuzz.ts).
  let r = 0;
  for (const e of emitted) {
    if (e.kind === "other") {
      // A Proxy is an object: it reaches the processors as an empty record.
      if (e.isObject) r++;
      continue;
    }
    const data = records[r];
    if (e.kind === "good") {
      assert.equal(data.body, `good-${e.k}`);
      assert.deepEqual(data.attributes, { good: e.k, text: "ok" });
      assert.equal(ns(data.timeUnixMs, data.timeNanosInMs), e.ns);
    } else {
      const t = e.c.timestamp;
      const got = ns(data.timeUnixMs, data.timeNanosInMs);
      if (t.kind === "exact") assert.equal(got, t.ns, "timestamp");
      else assert.equal(got, 0n, `timestamp ${t.kind} stays unset`);
      const o = e.c.observed;
      if (o.kind === "exact") {
        assert.equal(
          ns(data.observedTimeUnixMs, data.observedTimeNanosInMs),
          o.ns,
        );
      } else {
        assert.ok(data.observedTimeUnixMs > performance.timeOrigin - 1);
      }
    }
    r++;
  }
  assert.equal(r, records.length);

  // --- user_events: every event decodes; the good records arrive intact,
  // with PartA time = timestamp (else observed) in exact RFC 3339.
  const ueGood: number[] = [];
  for (const w of libc.writes) {
    const event = decodedFieldsToObject(
      decodeEventHeader(libc.nameOfIndex(w.index), w.event).fields,
    ) as Record<string, Record<string, unknown>>;
    const time = parseRfc3339(event.PartA.time);
    const body = event.PartB.body;
    if (typeof body === "string" && /^good-\d+$/.test(body)) {
      const g = goodRecord(Number(body.slice(5)));
      assert.equal(time, g.ns);
      assert.equal(event.PartC.good, Number(body.slice(5)));
      ueGood.push(Number(body.slice(5)));
    }
  }
  // ETW: the same with decodeTraceLogging.
  const etwGood: number[] = [];
  for (const w of advapi.writes) {
    const event = traceLoggingFieldsToObject(
      decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
    ) as Record<string, Record<string, unknown>>;
    const time = parseRfc3339(event.PartA.time);
    const body = event.PartB.body;
    if (typeof body === "string" && /^good-\d+$/.test(body)) {
      assert.equal(time, goodRecord(Number(body.slice(5))).ns);
      etwGood.push(Number(body.slice(5)));
    }
  }
  const all = Array.from({ length: k }, (_, i) => i);
  assert.deepEqual(ueGood, all, "every good record reached user_events");
  assert.deepEqual(etwGood, all, "every good record reached ETW");
  ue.shutdown();
  etw.shutdown();
}

describe(`fuzz (seed ${FUZZ_SEED}): hostile log records through every encoder`, () => {
  it(
    "never throw, decode everywhere, keep the good ones, count every drop and time",
    SLOW,
    async () => {
      await fc.assert(
        fc.asyncProperty(logBatch, (b) => runLogBatch(materialize(b))),
        params(),
      );
    },
  );
});

// ---------------------------------------------------------------------------
// Spans

function applySpan(
  tracer: ReturnType<TracerProvider["getTracer"]>,
  c: SpanCase,
): void {
  const options: Record<string, unknown> = { kind: c.kind };
  if (c.attributes !== undefined) options.attributes = c.attributes;
  if (c.links !== undefined) options.links = c.links;
  if (c.parent !== undefined) options.parent = c.parent;
  if (c.start.kind !== "absent") options.startTime = c.start.input;
  const span = tracer.startSpan(c.name as string, options as never);
  for (const o of c.ops) {
    switch (o.op) {
      case "setAttribute":
        span.setAttribute(o.key as string, o.value as never);
        break;
      case "setAttributes":
        span.setAttributes(o.attributes as never);
        break;
      case "addEvent":
        span.addEvent(
          o.name as string,
          o.attributes as never,
          o.time.input as never,
        );
        break;
      case "addLink":
        span.addLink(o.link as never);
        break;
      case "setStatus":
        span.setStatus(o.status as never);
        break;
      case "updateName":
        span.updateName(o.name as string);
        break;
      case "recordException":
        span.recordException(o.error, o.time.input as never);
        break;
    }
  }
  span.end(c.end.input as never);
}

function invalidTimesOf(c: SpanCase): number {
  let n = countInvalid(c.start, c.end);
  for (const o of c.ops) {
    if (o.op === "addEvent" || o.op === "recordException") {
      n += countInvalid(o.time);
    }
  }
  return n;
}

interface SpanBatch {
  readonly spans: readonly SpanCase[];
  readonly goodAt: number;
}

const spanBatch: fc.Arbitrary<SpanBatch> = fc.record({
  spans: fc.array(spanCase, { minLength: 1, maxLength: 5 }),
  goodAt: fc.nat(5),
});

async function runSpanBatch(batch: SpanBatch): Promise<void> {
  const memory = new InMemoryExporter<ReadableSpan>();
  const simple = new SimpleSpanProcessor(memory, { maxQueueSize: 64 });
  const libc = new FakeLibc();
  const ue = new UserEventsSpanProcessor(libc, {
    providerName: "fuzzspans",
    userEventsDataPath: "/fake",
    diagnostics: quiet,
  });
  libc.enable("fuzzspans_L4K1");
  const advapi = new FakeAdvapi32();
  advapi.enabledAnswer = 1;
  const etw = new EtwSpanProcessor(advapi, {
    providerName: "FuzzSpans",
    diagnostics: quiet,
  });
  const provider = new TracerProvider({
    resource: new Resource({ "service.name": "fuzz" }),
    processors: [simple, ue, etw],
    diagnostics: quiet,
  });
  const tracer = provider.getTracer("fuzz");
  const good = 1_700_000_013_123_456_789n;
  const endGood = () => {
    const span = tracer.startSpan("good", {
      kind: 2,
      attributes: { good: true },
      startTime: good,
    });
    span.addEvent("good-event", { e: 1 }, good + 7n);
    span.end(good + 1000n);
  };
  let invalid = 0;
  batch.spans.forEach((c, i) => {
    if (i === batch.goodAt) endGood();
    invalid += invalidTimesOf(c);
    assert.doesNotThrow(() => applySpan(tracer, c));
  });
  if (batch.goodAt >= batch.spans.length) endGood();
  const ended = batch.spans.length + 1;

  // --- Counters.
  await provider.forceFlush();
  assert.equal(provider.stats.invalidTimes, invalid, "invalidTimes");
  const s = simple.stats;
  const spans = memory.items;
  assert.equal(s.invalid, 0);
  assert.equal(spans.length, s.accepted);
  assert.equal(provider.stats.spansEnded, ended);
  // Unsampled spans (a parent whose sampled flag is 0) reach no processor.
  const sampled = s.invalid + s.dropped + s.accepted;
  const us = ue.stats;
  assert.equal(us.emitted, sampled);
  assert.equal(us.droppedEncodeError + us.droppedInvalidSpan, 0);
  assert.equal(us.repairedSpans, 0, "the tracer's spans need no repair");
  const es = etw.stats;
  assert.equal(es.encodeErrors + es.invalidRecords, 0);
  assert.equal(
    es.written + es.notEnabled + es.writeErrors + es.oversize,
    sampled,
  );

  // --- OTLP: protobufjs and strict JSON decode to exactly the spans.
  const proto = flatten(
    decodeTrace(encodeTraceRequest(spans)),
    "resourceSpans",
    "scopeSpans",
    "spans",
  );
  const json = flatten(
    jsonToDecoded(strictJson(encodeTraceRequestJson(spans))),
    "resourceSpans",
    "scopeSpans",
    "spans",
  );
  assert.equal(proto.length, spans.length);
  assert.equal(json.length, spans.length);
  spans.forEach((span, i) => {
    assertSpan(proto[i].item, writtenSpan(span), i);
    assertSpan(json[i].item, writtenSpan(span), i);
    // Times: exact, in range, end never before start.
    assert.ok(
      ns(span.endTimeUnixMs, span.endTimeNanosInMs) >=
        ns(span.startTimeUnixMs, span.startTimeNanosInMs),
    );
  });
  const goods = spans.filter((x) =>
    x.name === "good" && x.attributes.good === true
  );
  assert.equal(goods.length >= 1, true, "the good span arrived");
  for (const g of goods) {
    assert.equal(ns(g.startTimeUnixMs, g.startTimeNanosInMs), good);
    assert.equal(ns(g.endTimeUnixMs, g.endTimeNanosInMs), good + 1000n);
    assert.equal(
      ns(g.events[0].timeUnixMs, g.events[0].timeNanosInMs),
      good + 7n,
    );
  }

  // --- user_events / ETW: every event decodes; the good span is exact.
  let ueGood = 0;
  for (const w of libc.writes) {
    const event = decodedFieldsToObject(
      decodeEventHeader("fuzzspans_L4K1", w.event).fields,
    ) as Record<string, Record<string, unknown>>;
    const end = parseRfc3339(event.PartA.time);
    const start = parseRfc3339(event.PartB.startTime);
    assert.ok(end >= start);
    assert.ok([0, 1, 2, 3, 4].includes(event.PartB.kind as number));
    if (event.PartB.name === "good" && event.PartC?.good === true) {
      assert.equal(start, good);
      assert.equal(end, good + 1000n);
      ueGood++;
    }
  }
  let etwGood = 0;
  for (const w of advapi.writes) {
    const event = traceLoggingFieldsToObject(
      decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
    ) as Record<string, Record<string, unknown>>;
    const end = parseRfc3339(event.PartA.time);
    const start = parseRfc3339(event.PartB.startTime);
    assert.ok(end >= start);
    if (event.PartB.name === "good") {
      assert.equal(start, good);
      assert.equal(end, good + 1000n);
      etwGood++;
    }
  }
  assert.ok(ueGood >= 1, "the good span reached user_events");
  assert.ok(etwGood >= 1, "the good span reached ETW");
  ue.shutdown();
  etw.shutdown();
}

describe(`fuzz (seed ${FUZZ_SEED}): hostile spans through every encoder`, () => {
  it(
    "never throw, decode everywhere, keep the good one, count every time",
    SLOW,
    async () => {
      await fc.assert(
        fc.asyncProperty(spanBatch, (b) => runSpanBatch(materialize(b))),
        params(),
      );
    },
  );

  it(
    "hand-made ReadableSpans: checked, never corrupt an event or a request",
    SLOW,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(handMadeSpan, { minLength: 1, maxLength: 5 }),
          async (lazyMade) => {
            const made = materialize(lazyMade);
            const libc = new FakeLibc();
            const ue = new UserEventsSpanProcessor(libc, {
              providerName: "fuzzmade",
              userEventsDataPath: "/fake",
              diagnostics: quiet,
            });
            libc.enable("fuzzmade_L4K1");
            const advapi = new FakeAdvapi32();
            advapi.enabledAnswer = 1;
            const etw = new EtwSpanProcessor(advapi, {
              providerName: "FuzzMade",
              diagnostics: quiet,
            });
            const bodies: Uint8Array[] = [];
            const exporter = new OtlpHttpSpanExporter({
              env: () => undefined,
              endpoint: "http://127.0.0.1:4318/v1/traces",
              diagnostics: quiet,
              fetch: (_url, init) => {
                bodies.push(new Uint8Array(init?.body as Uint8Array));
                return Promise.resolve(new Response(null, { status: 200 }));
              },
            });
            for (const span of made) {
              assert.doesNotThrow(() => ue.onEnd(span as ReadableSpan));
              assert.doesNotThrow(() => etw.onEnd(span as ReadableSpan));
            }
            const result = await exporter.export(
              made as ReadableSpan[],
              new AbortController().signal,
            );
            const dropped = ue.spanChecks.invalidSpans;
            assert.equal(ue.stats.droppedInvalidSpan, dropped);
            assert.equal(etw.stats.invalidRecords, dropped);
            assert.equal(exporter.stats.invalidSpans, dropped);
            assert.equal(ue.stats.droppedEncodeError, 0);
            assert.equal(etw.stats.encodeErrors, 0);
            assert.equal(ue.stats.written, made.length - dropped);
            assert.equal(etw.stats.written, made.length - dropped);
            assert.equal(result.code, "success");
            assert.equal(
              (result.code === "success" && result.rejected) || 0,
              dropped,
            );
            for (const w of libc.writes) {
              decodeEventHeader("fuzzmade_L4K1", w.event);
            }
            for (const w of advapi.writes) {
              decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes);
            }
            const sent = bodies.length === 0 ? [] : flatten(
              decodeTrace(bodies[0]),
              "resourceSpans",
              "scopeSpans",
              "spans",
            );
            assert.equal(sent.length, made.length - dropped);
            for (const { item } of sent) {
              assert.ok((item.kind ?? 0) >= 1 && (item.kind ?? 0) <= 5);
              assert.ok((item.status?.code ?? 0) <= 2);
              assert.equal(item.traceId.length, 16);
              assert.ok(
                BigInt(item.endTimeUnixNano ?? 0) >=
                  BigInt(item.startTimeUnixNano ?? 0),
              );
            }
            await exporter.shutdown();
            ue.shutdown();
            etw.shutdown();
          },
        ),
        params(),
      );
    },
  );
});
