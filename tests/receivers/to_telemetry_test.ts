// From EventHeader events back to telemetry: records and spans encoded by
// the library's processors' encoder, decoded by decodeEventHeader, rebuilt
// by logFromEvent / spanFromEvent, compared with the originals.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  InMemoryExporter,
  LogEmitContext,
  type LogRecordData,
  type ReadableSpan,
  Resource,
  SimpleLogRecordProcessor,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
  toLogRecordData,
  TracerProvider,
} from "../../mod.ts";
import {
  encodeLogRecord,
  encodeSpan,
  EventBuffer,
} from "../../processors/_eventheader.ts";
import {
  type DecodedEvent,
  decodeEventHeader,
} from "../../processors/user_events/mod.ts";
import {
  logFromEvent,
  parseRfc3339Nanos,
  spanFromEvent,
  UserEventsBridge,
} from "../../receivers/user_events/mod.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const resource = new Resource({
  "service.name": "api",
  "service.instance.id": "i-7",
  "host.name": "h",
});
const context = new LogEmitContext(resource, { name: "t" });

function encodeLog(record: Parameters<typeof toLogRecordData>[0], level = 4) {
  const b = new EventBuffer();
  const n = encodeLogRecord(b, toLogRecordData(record, context), level, {
    resourceAttributes: [],
  });
  return decodeEventHeader(`p_L${level}K1`, b.bytes.slice(4, n));
}

async function endedSpans(
  make: (t: ReturnType<TracerProvider["getTracer"]>) => void,
): Promise<ReadableSpan[]> {
  const exporter = new InMemoryExporter<ReadableSpan>();
  const provider = new TracerProvider({
    resource,
    processors: [new SimpleSpanProcessor(exporter)],
  });
  make(provider.getTracer("t"));
  await provider.forceFlush();
  await provider.shutdown();
  return exporter.items;
}

function encodeSpanEvent(span: ReadableSpan): DecodedEvent {
  const b = new EventBuffer();
  const n = encodeSpan(b, span, { resourceAttributes: [] });
  return decodeEventHeader("p_L4K1", b.bytes.slice(4, n));
}

describe("logFromEvent", () => {
  it("rebuilds every field the Log layout carries", () => {
    const event = encodeLog({
      timestamp: new Date(1700000000124),
      severityNumber: 17,
      severityText: "ERROR",
      body: "disk full ü",
      eventName: "disk.full",
      attributes: {
        path: "/var",
        free: 0,
        ratio: 0.5,
        ok: false,
        big: 9007199254740993n,
        event_id: 42,
      },
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
    }, 2);
    const log = logFromEvent(event, 1700000000200000000n)!;
    assert.deepEqual(log.resource, {
      "service.name": "api",
      "service.instance.id": "i-7",
    });
    assert.deepEqual(log.record, {
      timestamp: 1700000000124000000n,
      observedTimestamp: 1700000000200000000n,
      severityNumber: 17,
      severityText: "ERROR",
      body: "disk full ü",
      attributes: {
        path: "/var",
        free: 0,
        ratio: 0.5,
        ok: false,
        big: 9007199254740993n,
        event_id: 42,
      },
      eventName: "disk.full",
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 0,
    });
  });

  it("gives undefined for other events and survives hostile ones", () => {
    const other = {
      ...encodeLog({ severityNumber: 9, body: "x" }),
      name: "Other",
    };
    assert.equal(logFromEvent(other), undefined);
    const hostile = new Proxy({ name: "Log" } as DecodedEvent, {
      get(target, key) {
        if (key === "fields") throw new Error("getter");
        return Reflect.get(target, key);
      },
    });
    assert.equal(logFromEvent(hostile), undefined);
    assert.equal(spanFromEvent(hostile), undefined);
    const bridge = new UserEventsBridge();
    bridge.handleEvent(hostile);
    bridge.handleEvent(null as never);
    bridge.handleEvent({ name: "Span", fields: "nope" } as never);
    assert.deepEqual(bridge.stats, {
      events: 3,
      logs: 0,
      spans: 0,
      other: 3,
      invalid: 0,
      resourcesCapped: 0,
    });
  });

  it("keeps a PartC key named __proto__ as an own attribute", () => {
    const event = encodeLog({
      severityNumber: 9,
      attributes: JSON.parse('{"__proto__": "p", "a": 1}'),
    });
    const attributes = logFromEvent(event)!.record.attributes!;
    assert.equal(Object.getPrototypeOf(attributes), Object.prototype);
    assert.deepEqual(Object.keys(attributes), ["__proto__", "a"]);
  });
});

describe("spanFromEvent", () => {
  it("rebuilds a span with its renamed PartB fields, links, status and times", async () => {
    const [span] = await endedSpans((tracer) => {
      const parent = tracer.startSpan("parent");
      const s = tracer.startSpan("GET /users", {
        kind: SpanKind.SERVER,
        parent,
        startTime: new Date(1700000000123),
        attributes: {
          "http.request.method": "GET",
          "http.response.status_code": 500,
          "url.full": "http://x/users",
          retries: 2,
        },
        links: [{
          context: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 },
        }],
      });
      s.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
      s.end(new Date(1700000000456));
    });
    const back = spanFromEvent(encodeSpanEvent(span))!;
    assert.equal(back.name, "GET /users");
    assert.equal(back.kind, SpanKind.SERVER);
    assert.equal(back.traceId, span.traceId);
    assert.equal(back.spanId, span.spanId);
    assert.equal(back.parentSpanId, span.parentSpanId);
    assert.equal(back.startTimeUnixMs, span.startTimeUnixMs);
    assert.equal(back.startTimeNanosInMs, span.startTimeNanosInMs);
    assert.equal(back.endTimeUnixMs, span.endTimeUnixMs);
    assert.equal(back.endTimeNanosInMs, span.endTimeNanosInMs);
    assert.deepEqual(back.attributes, span.attributes);
    // httpStatusCode is present, so the encoder leaves statusMessage out.
    assert.deepEqual(back.status, { code: SpanStatusCode.ERROR });
    assert.deepEqual(back.links.map((l) => [l.traceId, l.spanId]), [[
      TRACE_ID,
      SPAN_ID,
    ]]);
    assert.deepEqual(back.resource.attributes, {
      "service.name": "api",
      "service.instance.id": "i-7",
    });
    assert.equal(back.ended, true);
    assert.equal(back.traceFlags, 1);
  });

  it("keeps the status message when no HTTP status hides it; OK comes back as UNSET", async () => {
    const spans = await endedSpans((tracer) => {
      const a = tracer.startSpan("a");
      a.setStatus({ code: SpanStatusCode.ERROR, message: "timeout" });
      a.end();
      const b = tracer.startSpan("b");
      b.setStatus({ code: SpanStatusCode.OK });
      b.end();
    });
    assert.deepEqual(spanFromEvent(encodeSpanEvent(spans[0]))!.status, {
      code: SpanStatusCode.ERROR,
      message: "timeout",
    });
    assert.deepEqual(spanFromEvent(encodeSpanEvent(spans[1]))!.status, {
      code: SpanStatusCode.UNSET,
    });
  });
});

describe("UserEventsBridge", () => {
  it("feeds processors, one context per writer resource, counters that add up", async () => {
    const logs = new InMemoryExporter<LogRecordData>();
    const spans = new InMemoryExporter<ReadableSpan>();
    const bridge = new UserEventsBridge({
      logProcessors: [new SimpleLogRecordProcessor(logs)],
      spanProcessors: [new SimpleSpanProcessor(spans)],
      maxResources: 1,
    });
    bridge.handleEvent(
      encodeLog({ severityNumber: 9, body: "one", timestamp: 5n }),
    );
    const [span] = await endedSpans((t) => t.startSpan("s").end());
    bridge.handleEvent(encodeSpanEvent(span));
    const other = new LogEmitContext(
      new Resource({ "service.name": "other" }),
      {
        name: "t",
      },
    );
    const b = new EventBuffer();
    const n = encodeLogRecord(
      b,
      toLogRecordData({ severityNumber: 9, body: "two" }, other),
      4,
      { resourceAttributes: [] },
    );
    bridge.handleEvent(decodeEventHeader("p_L4K1", b.bytes.slice(4, n)));
    const broken = encodeSpanEvent(span);
    bridge.handleEvent({
      ...broken,
      fields: broken.fields.filter((f) => f.name !== "PartA"),
    });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(logs.items.map((r) => r.body), ["one", "two"]);
    assert.equal(logs.items[0].timeUnixMs, 0);
    assert.equal(logs.items[0].timeNanosInMs, 5);
    assert.deepEqual(logs.items[0].resource.attributes, {
      "service.name": "api",
      "service.instance.id": "i-7",
    });
    assert.deepEqual(logs.items[1].resource.attributes, {}); // maxResources reached
    assert.equal(spans.items.length, 1);
    const stats = bridge.stats;
    assert.deepEqual(stats, {
      events: 4,
      logs: 2,
      spans: 1,
      other: 0,
      invalid: 1,
      resourcesCapped: 1,
    });
  });
});

describe("parseRfc3339Nanos", () => {
  it("parses exactly and rejects what is not RFC 3339", () => {
    const good: [string, bigint][] = [
      ["2023-11-14T22:13:20.123456789Z", 1700000000123456789n],
      ["2023-11-14T22:13:20Z", 1700000000000000000n],
      ["2023-11-14T23:13:20.5+01:00", 1700000000500000000n],
      ["2023-11-14T22:13:20.1Z", 1700000000100000000n],
      ["2023-11-14T22:13:20.000000001Z", 1700000000000000001n],
      ["2023-11-14T20:13:20.987654321-02:00", 1700000000987654321n],
      ["1969-12-31T23:59:59.5Z", -500000000n],
    ];
    for (const [text, nanos] of good) {
      assert.equal(parseRfc3339Nanos(text), nanos, text);
    }
    for (
      const bad of [
        "",
        "2023-11-14",
        "2023-13-40T99:99:99Z",
        "x".repeat(1e5),
        null,
        5,
        "2023-11-14T22:13:20.1234567890Z",
        "2023-11-14T22:13:20.Z",
        "2023-11-14T22:13:20.5",
        "2023-11-14T22:13:20+0100",
        "2023-11-14 22:13:20Z",
      ]
    ) {
      assert.equal(parseRfc3339Nanos(bad), undefined, String(bad).slice(0, 20));
    }
  });
});
