// Batch integrity: hostile records and spans among good ones. Every good one
// arrives, every hostile one costs only itself (its bad field is dropped or
// replaced by the documented rule and counted), and the whole request decodes
// with protobufjs at its default recursion limit (100, as protoc).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import {
  InMemoryExporter,
  LogEmitContext,
  LoggerProvider,
  type LogRecord,
  type LogRecordData,
  MAX_VALUE_DEPTH,
  type ReadableSpan,
  Resource,
  SimpleLogRecordProcessor,
  SimpleSpanProcessor,
  type SpanContext,
  toLogRecordData,
  TracerProvider,
} from "../../mod.ts";
import { OtlpHttpLogExporter } from "../../exporters/otlp/mod.ts";
import { FakeCollector } from "../otlp/_server.ts";
import { encodeLogsRequest } from "../../exporters/_otlp_logs_proto.ts";
import { encodeTraceRequest } from "../../exporters/_otlp_trace_proto.ts";
import {
  encodeLogsRequestJson,
  encodeTraceRequestJson,
} from "../../exporters/_otlp_json.ts";
import {
  type Decoded,
  decodeLogs,
  decodeTrace,
  hex,
} from "../otlp/_decoder.ts";
import { nested, sharedLevels, trappedProxy } from "./_hostile.ts";

const quiet = () => {};
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

function throwingGetter<T extends object>(base: T, key: string): T {
  return Object.defineProperty({ ...base }, key, {
    get() {
      throw new Error("hostile");
    },
    enumerable: true,
  });
}

describe("batch integrity: hostile records among good ones", () => {
  it("protobufjs keeps its default recursion limit", () => {
    assert.equal(protobuf.util.recursionLimit, 100);
    assert.equal(protobuf.Reader.recursionLimit, 100);
  });

  it("logs: every good record arrives, decoded by protobufjs; each bad field is dropped alone", async () => {
    const exporter = new InMemoryExporter<LogRecordData>();
    const provider = new LoggerProvider({
      resource: new Resource({ "service.name": "svc" }),
      processors: [new SimpleLogRecordProcessor(exporter)],
      diagnostics: quiet,
    });
    const logger = provider.getLogger("l");
    const badStack = new Error("bad");
    Object.defineProperty(badStack, "stack", {
      get() {
        throw new Error("hostile");
      },
    });
    const hostile: [string, unknown][] = [
      ["uppercase trace id", {
        traceId: TRACE_ID.toUpperCase(),
        spanId: SPAN_ID.toUpperCase(),
        traceFlags: 1,
      }],
      ["short span id", { traceId: TRACE_ID, spanId: "abc" }],
      ["non-hex trace id", { traceId: "x".repeat(32), spanId: SPAN_ID }],
      ["flags 1.5", { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1.5 }],
      ["flags 300", { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 300 }],
      ["severity '17'", { severityNumber: "17" }],
      ["severity 2.5", { severityNumber: 2.5 }],
      ["severityText number", { severityText: 5 }],
      ["eventName object", { eventName: {} }],
      ["body nested 200", { body: nested(200) }],
      ["body shared 24", { body: sharedLevels(24) }],
      ["body Error with throwing stack", { body: badStack }],
      ["attribute Map with throwing key", {
        attributes: {
          m: new Map<unknown, unknown>([[
            {
              toString() {
                throw new Error("hostile");
              },
            },
            1,
          ], ["ok", 2]]),
        },
      }],
      ["attribute throwing getter", {
        attributes: throwingGetter({ keep: 1 }, "bad"),
      }],
      ["attributes Proxy", { attributes: trappedProxy() }],
      ["body Proxy", { body: trappedProxy() }],
      ["__proto__ key", {
        attributes: JSON.parse('{"__proto__": {"p": 1}, "k": 2}'),
      }],
    ];
    let good = 0;
    for (const [label, fields] of hostile) {
      logger.emit({ body: `good ${good++}`, severityNumber: 9 });
      logger.emit({ body: label, ...(fields as LogRecord) });
    }
    logger.emit({ body: `good ${good++}`, severityNumber: 9 });
    logger.emit(
      throwingGetter({ body: "record with a throwing getter" }, "spanId"),
    );
    logger.emit({ body: `good ${good++}`, severityNumber: 9 });
    logger.emit(trappedProxy() as LogRecord);
    await provider.forceFlush();
    const items = exporter.items;
    assert.equal(items.length, hostile.length * 2 + 4);
    const decoded = decodeLogs(encodeLogsRequest(items));
    const records = decoded.resourceLogs.flatMap((r: Decoded) =>
      r.scopeLogs.flatMap((s: Decoded) => s.logRecords)
    );
    assert.equal(records.length, items.length);
    const goodBodies = records
      .map((r: Decoded) => r.body?.stringValue)
      .filter((b: unknown) => typeof b === "string" && b.startsWith("good "));
    assert.equal(goodBodies.length, good);
    const byLabel = new Map<string, Decoded>();
    for (const r of records) byLabel.set(r.body?.stringValue, r);
    // Uppercase ids are normalised, not garbled.
    const upper = byLabel.get("uppercase trace id");
    assert.equal(hex(upper.traceId), TRACE_ID);
    assert.equal(hex(upper.spanId), SPAN_ID);
    // Invalid ids are dropped as a pair; invalid flags become 0.
    assert.equal(byLabel.get("short span id").traceId, undefined);
    assert.equal(byLabel.get("non-hex trace id").traceId, undefined);
    assert.equal(byLabel.get("flags 1.5").flags, undefined);
    assert.equal(hex(byLabel.get("flags 300").traceId), TRACE_ID);
    // Severity only as an integer 1-24.
    assert.equal(byLabel.get("severity '17'").severityNumber, undefined);
    assert.equal(byLabel.get("severity 2.5").severityNumber, undefined);
    // One bad value drops only itself: the Map keeps its readable entry.
    const map = byLabel.get("attribute Map with throwing key").attributes[0];
    assert.deepEqual(
      map.value.kvlistValue.values.map((kv: Decoded) => kv.key),
      ["ok"],
    );
    const getter = byLabel.get("attribute throwing getter");
    assert.deepEqual(getter.attributes.map((kv: Decoded) => kv.key), ["keep"]);
    assert.equal(getter.droppedAttributesCount, 1);
    const proto = byLabel.get("__proto__ key");
    assert.deepEqual(proto.attributes.map((kv: Decoded) => kv.key), [
      "__proto__",
      "k",
    ]);
    const stats = provider.stats;
    assert.equal(stats.invalidTraceContexts, 4);
    // 2 severities, a text, a name, the throwing spanId, the 10 fields of the Proxy
    assert.equal(stats.invalidFields, 15);
    assert.ok(stats.invalidValues >= 5);
    assert.equal(stats.cutValues, 1);
    // The JSON encoding of the same batch parses too.
    JSON.parse(new TextDecoder().decode(encodeLogsRequestJson(items)));
    await provider.shutdown();
  });

  it("spans: hostile parents, links, kinds and statuses cost only their own field", async () => {
    const exporter = new InMemoryExporter<ReadableSpan>();
    const provider = new TracerProvider({
      resource: new Resource({}),
      processors: [new SimpleSpanProcessor(exporter)],
      diagnostics: quiet,
    });
    const tracer = provider.getTracer("t");
    const ctx = (extra: Record<string, unknown>) =>
      ({
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        traceFlags: 1,
        ...extra,
      }) as unknown as SpanContext;
    const cases: [string, Record<string, unknown>][] = [
      ["traceState number", { parent: ctx({ traceState: 5 }) }],
      ["traceState invalid", { parent: ctx({ traceState: "Bad Key=1" }) }],
      ["traceState valid", {
        parent: ctx({ traceState: "rojo=00f067aa0ba902b7" }),
      }],
      ["parent span id short", { parent: ctx({ spanId: "abc" }) }],
      ["parent uppercase", {
        parent: ctx({
          traceId: TRACE_ID.toUpperCase(),
          spanId: SPAN_ID.toUpperCase(),
        }),
      }],
      ["parent spanContext throws", {
        parent: {
          spanContext() {
            throw new Error("hostile");
          },
        },
      }],
      ["kind string", { kind: "server" }],
      ["kind 1.5", { kind: 1.5 }],
      ["kind symbol", { kind: Symbol("k") }],
      ["kind 7", { kind: 7 }],
      ["link traceState object", {
        links: [{ context: ctx({ traceState: {} }) }],
      }],
      ["link null", { links: [null] }],
      ["links null", { links: null }],
      ["attributes nested 200", { attributes: { deep: nested(200) } }],
    ];
    let good = 0;
    for (const [label, options] of cases) {
      tracer.startSpan(`good ${good++}`).end();
      const span = tracer.startSpan(label, options as never);
      span.setStatus({ code: "2" } as never);
      span.addEvent("e", { deep: nested(MAX_VALUE_DEPTH + 5) } as never);
      span.end();
    }
    tracer.startSpan(`good ${good++}`).end();
    await provider.forceFlush();
    const items = exporter.items;
    assert.equal(items.length, cases.length + good);
    const decoded = decodeTrace(encodeTraceRequest(items));
    const spans = decoded.resourceSpans.flatMap((r: Decoded) =>
      r.scopeSpans.flatMap((s: Decoded) => s.spans)
    );
    assert.equal(spans.length, items.length);
    const byName = new Map<string, Decoded>();
    for (const s of spans) byName.set(s.name, s);
    for (let i = 0; i < good; i++) assert.ok(byName.has(`good ${i}`));
    for (const s of spans) {
      assert.ok(s.kind >= 1 && s.kind <= 5, `${s.name}: kind ${s.kind}`);
      assert.equal(s.traceId.length, 16);
      assert.equal(s.spanId.length, 8);
      if (s.parentSpanId !== undefined) assert.equal(s.parentSpanId.length, 8);
      assert.equal(s.status?.code, undefined, `${s.name}: status`);
    }
    assert.equal(byName.get("traceState number").traceState, undefined);
    assert.equal(hex(byName.get("traceState number").traceId), TRACE_ID);
    assert.equal(byName.get("traceState invalid").traceState, undefined);
    assert.equal(
      byName.get("traceState valid").traceState,
      "rojo=00f067aa0ba902b7",
    );
    // An invalid parent starts a new trace (no parent id).
    assert.equal(byName.get("parent span id short").parentSpanId, undefined);
    assert.notEqual(hex(byName.get("parent span id short").traceId), TRACE_ID);
    assert.equal(hex(byName.get("parent uppercase").traceId), TRACE_ID);
    assert.equal(hex(byName.get("parent uppercase").parentSpanId), SPAN_ID);
    assert.equal(byName.get("kind string").kind, 1); // INTERNAL, OTLP 1
    assert.equal(byName.get("link traceState object").links.length, 1);
    assert.equal(
      byName.get("link traceState object").links[0].traceState,
      undefined,
    );
    assert.equal(byName.get("link null").droppedLinksCount, 1);
    const stats = provider.stats;
    assert.equal(stats.invalidTraceStates, 3);
    assert.equal(stats.invalidTraceContexts, 2);
    assert.equal(stats.invalidKinds, 4);
    assert.equal(stats.invalidStatuses, cases.length);
    assert.equal(stats.invalidLinks, 1);
    assert.equal(stats.apiErrors, 0); // links: null means none
    // JSON: the same spans, kinds as integers 1-5.
    const json = JSON.parse(
      new TextDecoder().decode(encodeTraceRequestJson(items)),
    );
    for (const rs of json.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) assert.ok(Number.isInteger(s.kind));
      }
    }
    await provider.shutdown();
  });

  it("nesting at MAX_VALUE_DEPTH decodes at the default recursion limit in every position", async () => {
    const exporter = new InMemoryExporter<ReadableSpan>();
    const provider = new TracerProvider({
      resource: new Resource({}),
      processors: [new SimpleSpanProcessor(exporter)],
      diagnostics: quiet,
    });
    // The deepest position: a span event's or link's attribute. Maps cost
    // three messages a level, arrays two; both at the limit and past it.
    const deepMap = nested(MAX_VALUE_DEPTH + 10);
    let deepArray: unknown = 1;
    for (let i = 0; i < MAX_VALUE_DEPTH + 10; i++) deepArray = [deepArray];
    const span = provider.getTracer("t").startSpan("deep", {
      attributes: { m: deepMap, a: deepArray } as never,
      links: [{
        context: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 },
        attributes: { m: deepMap } as never,
      }],
    });
    span.addEvent("e", { m: deepMap, a: deepArray } as never);
    span.end();
    await provider.forceFlush();
    const decoded = decodeTrace(encodeTraceRequest(exporter.items));
    const s = decoded.resourceSpans[0].scopeSpans[0].spans[0];
    const depth = (v: Decoded): number =>
      v?.kvlistValue
        ? 1 +
          Math.max(
            0,
            ...(v.kvlistValue.values ?? []).map((kv: Decoded) =>
              depth(kv.value)
            ),
          )
        : v?.arrayValue
        ? 1 + Math.max(0, ...(v.arrayValue.values ?? []).map(depth))
        : 0;
    assert.equal(depth(s.events[0].attributes[0].value), MAX_VALUE_DEPTH);
    assert.equal(depth(s.links[0].attributes[0].value), MAX_VALUE_DEPTH);
    assert.equal(depth(s.attributes[1].value), MAX_VALUE_DEPTH);
    // Logs: the body and an attribute at the limit.
    const logExporter = new InMemoryExporter<LogRecordData>();
    const logs = new LoggerProvider({
      resource: new Resource({}),
      processors: [new SimpleLogRecordProcessor(logExporter)],
      diagnostics: quiet,
    });
    logs.getLogger("l").emit({
      body: deepMap as never,
      attributes: { m: deepMap } as never,
    });
    await logs.forceFlush();
    const record = decodeLogs(encodeLogsRequest(logExporter.items))
      .resourceLogs[0].scopeLogs[0].logRecords[0];
    assert.equal(depth(record.body), MAX_VALUE_DEPTH);
    await provider.shutdown();
    await logs.shutdown();
  });
});

describe("exporter: an unreadable hand-made record costs only itself", () => {
  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`${protocol}: the good ones arrive; the bad one is counted as rejected, never exported`, async () => {
      const collector = await FakeCollector.start();
      const exporter = new OtlpHttpLogExporter({
        env: () => undefined,
        endpoint: collector.url("/v1/logs"),
        protocol,
        diagnostics: quiet,
      });
      const context = new LogEmitContext(new Resource({}), { name: "s" });
      const good = (body: string) => toLogRecordData({ body }, context);
      // A record handed straight to the exporter whose attributes throw
      // when the encoder reads them.
      const bad = Object.defineProperty({ ...good("bad") }, "attributes", {
        get(): never {
          throw new Error("hostile");
        },
      }) as LogRecordData;
      const result = await exporter.export(
        [good("one"), bad, good("two")],
        new AbortController().signal,
      );
      assert.equal(result.code, "success");
      assert.equal(result.code === "success" && result.rejected, 1);
      assert.equal(collector.requests.length, 1);
      const body = collector.requests[0].body;
      const bodies = protocol === "http/protobuf"
        ? decodeLogs(body).resourceLogs[0].scopeLogs[0].logRecords.map((
          r: Decoded,
        ) => r.body.stringValue)
        : JSON.parse(new TextDecoder().decode(body)).resourceLogs[0]
          .scopeLogs[0].logRecords.map((r: Decoded) => r.body.stringValue);
      assert.deepEqual(bodies, ["one", "two"]);
      await exporter.shutdown();
      await collector.close();
    });
  }
});
