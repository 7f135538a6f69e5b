// 100,000 seeded random nanosecond, microsecond and millisecond timestamps,
// given as every TimeInput kind, through every encoder and back through a
// decoder that is not the encoder's twin: protobufjs and JSON.parse for OTLP,
// the project's decodeEventHeader for user_events and decodeTraceLogging for
// ETW (RFC 3339 text and FILETIME). Expected values are computed with bigint.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  InMemoryExporter,
  LogEmitContext,
  type LogRecord,
  type LogRecordData,
  MAX_UNIX_MS,
  type ReadableSpan,
  Resource,
  SimpleSpanProcessor,
  type TimeInput,
  toLogRecordData,
  TracerProvider,
} from "../../mod.ts";
import { encodeLogsRequest } from "../../exporters/_otlp_logs_proto.ts";
import { encodeTraceRequest } from "../../exporters/_otlp_trace_proto.ts";
import {
  encodeLogsRequestJson,
  encodeTraceRequestJson,
} from "../../exporters/_otlp_json.ts";
import {
  encodeLogRecord,
  encodeSpan,
  EventBuffer,
} from "../../processors/_eventheader.ts";
import { TraceLoggingWriter } from "../../processors/_tracelogging.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
} from "../../processors/user_events/mod.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  EtwSpanProcessor,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { decodeLogs, decodeTrace } from "../otlp/_decoder.ts";
import {
  FILETIME_UNIX_EPOCH,
  MAX_NS,
  parseRfc3339,
  prng32,
  randomBigInt,
} from "./_time.ts";

const COUNT = 100_000;
/** Records per protobuf/JSON request. */
const CHUNK = 5_000;
/** Records per test case: a loaded machine stays within any runner's timeout. */
const PART = 25_000;
const SLOW = { timeout: 120_000 };
const decoder = new TextDecoder();

/** First millisecond a number reads as absolute, not performance.now()-relative. */
const ABSOLUTE_MS = BigInt(Math.ceil(performance.timeOrigin)) + 1n;
/** A number carries microseconds exactly below 2^43 ms (year 2248). */
const NUMBER_US_LIMIT = 2n ** 43n * 1000n - 1n;

interface Sample {
  readonly input: TimeInput;
  readonly ns: bigint;
}

/** One random time, its input form and its exact value (bigint). */
function sample(next: () => number, i: number): Sample {
  switch (i % 8) {
    case 0: { // ns anywhere in range, as bigint
      const ns = randomBigInt(next, 1n, MAX_NS);
      return { input: ns, ns };
    }
    case 1: { // present-day ns, as bigint
      const ns = randomBigInt(
        next,
        1_600_000_000_000_000_000n,
        2_000_000_000_000_000_000n,
      );
      return { input: ns, ns };
    }
    case 2: { // ns anywhere in range, as HrTime
      const ns = randomBigInt(next, 1n, MAX_NS);
      return {
        input: [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)],
        ns,
      };
    }
    case 3: { // µs as a fractional millisecond number
      const us = randomBigInt(next, ABSOLUTE_MS * 1000n, NUMBER_US_LIMIT);
      return { input: Number(us) / 1000, ns: us * 1000n };
    }
    case 4: { // present-day µs as a number (Date.now() + a fraction)
      const us = randomBigInt(
        next,
        ABSOLUTE_MS * 1000n,
        ABSOLUTE_MS * 1000n + 10n ** 12n,
      );
      return { input: Number(us) / 1000, ns: us * 1000n };
    }
    case 5: { // µs anywhere in range, as HrTime
      const us = randomBigInt(next, 1n, MAX_NS / 1000n);
      return {
        input: [Number(us / 1_000_000n), Number(us % 1_000_000n) * 1000],
        ns: us * 1000n,
      };
    }
    case 6: { // ms as a number
      const ms = randomBigInt(next, ABSOLUTE_MS, BigInt(MAX_UNIX_MS));
      return { input: Number(ms), ns: ms * 1_000_000n };
    }
    default: { // ms anywhere in range, as a Date
      const ms = randomBigInt(next, 1n, BigInt(MAX_UNIX_MS));
      return { input: new Date(Number(ms)), ns: ms * 1_000_000n };
    }
  }
}

function samples(seed: number, count: number): Sample[] {
  const next = prng32(seed);
  const out: Sample[] = [];
  for (let i = 0; i < count; i++) out.push(sample(next, i));
  return out;
}

const context = new LogEmitContext(new Resource({ "service.name": "svc" }), {
  name: "time",
});

function records(times: Sample[], observed: Sample[]): LogRecordData[] {
  const out: LogRecordData[] = [];
  for (let i = 0; i < times.length; i++) {
    const record: LogRecord = {
      severityNumber: 9,
      timestamp: times[i].input,
      observedTimestamp: observed[i].input,
    };
    out.push(toLogRecordData(record, context));
  }
  return out;
}

describe(`exact times: ${COUNT} seeded timestamps through every encoder`, () => {
  const times = samples(0x5eed, COUNT);
  const observed = samples(0x0b5e, COUNT);
  const data = records(times, observed);

  it("converts every input exactly (no invalid time)", SLOW, () => {
    assert.equal(context.sanitizer.invalidTimes, 0);
    for (let i = 0; i < COUNT; i++) {
      const r = data[i];
      assert.equal(
        BigInt(r.timeUnixMs) * 1_000_000n + BigInt(r.timeNanosInMs),
        times[i].ns,
        `#${i}`,
      );
    }
  });

  it("OTLP protobuf: protobufjs reads every fixed64 back exactly", SLOW, () => {
    for (let from = 0; from < COUNT; from += CHUNK) {
      const chunk = data.slice(from, from + CHUNK);
      const decoded = decodeLogs(encodeLogsRequest(chunk))
        .resourceLogs[0].scopeLogs[0].logRecords;
      assert.equal(decoded.length, chunk.length);
      for (let k = 0; k < chunk.length; k++) {
        const i = from + k;
        assert.equal(decoded[k].timeUnixNano, times[i].ns.toString(), `#${i}`);
        assert.equal(
          decoded[k].observedTimeUnixNano,
          observed[i].ns.toString(),
          `#${i} observed`,
        );
      }
    }
  });

  it("OTLP/JSON: every decimal string is exact", SLOW, () => {
    for (let from = 0; from < COUNT; from += CHUNK) {
      const chunk = data.slice(from, from + CHUNK);
      const parsed = JSON.parse(decoder.decode(encodeLogsRequestJson(chunk)))
        .resourceLogs[0].scopeLogs[0].logRecords;
      for (let k = 0; k < chunk.length; k++) {
        const i = from + k;
        assert.equal(parsed[k].timeUnixNano, times[i].ns.toString(), `#${i}`);
        assert.equal(
          parsed[k].observedTimeUnixNano,
          observed[i].ns.toString(),
          `#${i} observed`,
        );
      }
    }
  });

  for (let part = 0; part < COUNT; part += PART) {
    it(
      `user_events: decodeEventHeader reads RFC 3339 text with the true 0/3/6/9 digits (#${part}-)`,
      SLOW,
      () => {
        const b = new EventBuffer();
        for (let i = part; i < part + PART; i++) {
          const n = encodeLogRecord(b, data[i], 4, { resourceAttributes: [] });
          assert.ok(n > 0, `#${i} encoded`);
          const event = decodeEventHeader("p_L4K1", b.bytes.slice(4, n));
          const partA = decodedFieldsToObject(event.fields).PartA as Record<
            string,
            unknown
          >;
          assert.equal(parseRfc3339(partA.time), times[i].ns, `#${i}`);
        }
      },
    );
  }

  for (let part = 0; part < COUNT; part += PART) {
    it(
      `ETW: decodeTraceLogging reads RFC 3339 text and FILETIME exact to 100 ns (#${part}-)`,
      SLOW,
      () => {
        const w = new TraceLoggingWriter(
          new Uint8Array(65536),
          0,
          4096,
          4096,
          4096,
        );
        for (let i = part; i < part + PART; i++) {
          const r = data[i];
          w.reset("E");
          w.rfc3339("time", r.timeUnixMs, r.timeNanosInMs);
          w.filetime("ft", r.observedTimeUnixMs, r.observedTimeNanosInMs);
          assert.ok(w.finish());
          const fields = decodeTraceLogging(
            w.bytes.slice(
              w.metadataOffset,
              w.metadataOffset + w.metadataLength,
            ),
            w.bytes.slice(w.payloadOffset, w.payloadOffset + w.payloadLength),
          ).fields;
          assert.equal(parseRfc3339(fields[0].value), times[i].ns, `#${i}`);
          assert.equal(
            fields[1].value,
            FILETIME_UNIX_EPOCH + observed[i].ns / 100n,
            `#${i} filetime`,
          );
        }
      },
    );
  }
});

describe("exact times through the ETW processor itself", () => {
  it(
    "EtwProcessor: PartA time (timestamp, else observed) decodes exactly for 20,000 seeded inputs",
    SLOW,
    () => {
      const N = 20_000;
      const times = samples(0xe7a1, N);
      const observed = samples(0xe7a2, N);
      const fake = new FakeAdvapi32();
      fake.enabledAnswer = 1;
      using processor = new EtwProcessor(fake, {
        providerName: "Time",
        diagnostics: () => {},
      });
      for (let i = 0; i < N; i++) {
        // Every fourth record has no timestamp: PartA time is the observed one.
        const record: LogRecord = i % 4 === 0
          ? { severityNumber: 9, observedTimestamp: observed[i].input }
          : {
            severityNumber: 9,
            timestamp: times[i].input,
            observedTimestamp: observed[i].input,
          };
        processor.onEmit(record, context);
      }
      assert.equal(processor.stats.written, N);
      assert.equal(context.sanitizer.invalidTimes, 0);
      for (let i = 0; i < N; i++) {
        const w = fake.writes[i];
        const partA = traceLoggingFieldsToObject(
          decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
        ).PartA as Record<string, unknown>;
        const want = i % 4 === 0 ? observed[i].ns : times[i].ns;
        assert.equal(parseRfc3339(partA.time), want, `#${i}`);
      }
    },
  );
});

describe("exact span times: 10,000 seeded spans through every encoder", () => {
  const SPANS = 10_000;
  const starts = samples(0x5a5a, SPANS);
  const next = prng32(0xd1ff);
  const exporter = new InMemoryExporter<ReadableSpan>();
  const provider = new TracerProvider({
    processors: [new SimpleSpanProcessor(exporter, { maxQueueSize: SPANS })],
  });
  const tracer = provider.getTracer("time");
  const expected: [bigint, bigint, bigint][] = [];
  for (let i = 0; i < SPANS; i++) {
    const start = starts[i].ns;
    // 1 ns to ~1 s long (and never past the end of the range).
    const end = start + 1n + BigInt(next() % 1_000_000_000);
    const event = start + (end - start) / 2n;
    if (end > MAX_NS) {
      expected.push([start, start, start]);
      const span = tracer.startSpan(`s${i}`, { startTime: starts[i].input });
      span.addEvent("e", undefined, start);
      span.end(start);
      continue;
    }
    expected.push([start, end, event]);
    const span = tracer.startSpan(`s${i}`, { startTime: starts[i].input });
    span.addEvent("e", undefined, event);
    span.end(end);
  }

  it(
    "OTLP protobuf and JSON: start, end and event times are exact",
    SLOW,
    async () => {
      await provider.forceFlush();
      const spans = exporter.items;
      assert.equal(spans.length, SPANS);
      assert.equal(provider.stats.invalidTimes, 0);
      const proto = decodeTrace(encodeTraceRequest(spans))
        .resourceSpans[0].scopeSpans[0].spans;
      const json = JSON.parse(decoder.decode(encodeTraceRequestJson(spans)))
        .resourceSpans[0].scopeSpans[0].spans;
      for (let i = 0; i < SPANS; i++) {
        const [start, end, event] = expected[i].map(String);
        for (const s of [proto[i], json[i]]) {
          assert.equal(s.startTimeUnixNano, start, `#${i} start`);
          assert.equal(s.endTimeUnixNano, end, `#${i} end`);
          assert.equal(s.events[0].timeUnixNano, event, `#${i} event`);
        }
      }
    },
  );

  it(
    "ETW: EtwSpanProcessor writes startTime and PartA time exactly (decodeTraceLogging)",
    SLOW,
    async () => {
      await provider.forceFlush();
      const fake = new FakeAdvapi32();
      fake.enabledAnswer = 1;
      using etw = new EtwSpanProcessor(fake, {
        providerName: "TimeSpans",
        diagnostics: () => {},
      });
      const spans = exporter.items;
      for (const span of spans) etw.onEnd(span);
      assert.equal(etw.stats.written, SPANS);
      for (let i = 0; i < SPANS; i++) {
        const w = fake.writes[i];
        const event = traceLoggingFieldsToObject(
          decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
        ) as Record<string, Record<string, unknown>>;
        assert.equal(
          parseRfc3339(event.PartB.startTime),
          expected[i][0],
          `#${i}`,
        );
        assert.equal(parseRfc3339(event.PartA.time), expected[i][1], `#${i}`);
      }
    },
  );

  it(
    "user_events: the span's startTime and PartA time decode exactly",
    SLOW,
    async () => {
      await provider.forceFlush();
      const b = new EventBuffer();
      const spans = exporter.items;
      for (let i = 0; i < SPANS; i++) {
        const n = encodeSpan(b, spans[i], { resourceAttributes: [] });
        assert.ok(n > 0);
        const event = decodedFieldsToObject(
          decodeEventHeader("p_L4K1", b.bytes.slice(4, n)).fields,
        ) as Record<string, Record<string, unknown>>;
        assert.equal(parseRfc3339(event.PartB.startTime), expected[i][0]);
        assert.equal(parseRfc3339(event.PartA.time), expected[i][1]);
      }
      await provider.shutdown();
    },
  );
});
