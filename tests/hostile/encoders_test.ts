// Every encoder's output decodes with a standard decoder: OTLP/JSON writes
// lone surrogates as U+FFFD (as the protobuf path does), and keys that
// become equal once written (a lone surrogate, NUL vs `;`/`_` in
// EventHeader, NUL vs `?` in TraceLogging) never give an event two fields
// of one name: the first is kept, the others are counted.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  LogEmitContext,
  LoggerProvider,
  Resource,
  toLogRecordData,
  TracerProvider,
} from "../../mod.ts";
import { encodeLogsRequest } from "../../exporters/_otlp_logs_proto.ts";
import {
  encodeLogsRequestJson,
  encodeTraceRequestJson,
} from "../../exporters/_otlp_json.ts";
import {
  type DecodedField,
  decodeEventHeader,
  UserEventsProcessor,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  EtwSpanProcessor,
  type TraceLoggingField,
} from "../../processors/etw/mod.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { decodeLogs } from "../otlp/_decoder.ts";

const quiet = () => {};

function members(
  fields: readonly (DecodedField | TraceLoggingField)[],
  struct: string,
): [string, unknown][] {
  const f = fields.find((x) => x.name === struct);
  assert.ok(f, `no ${struct}`);
  return (f.value as (DecodedField | TraceLoggingField)[]).map((
    m,
  ) => [m.name, m.value]);
}

describe("OTLP/JSON: lone surrogates", () => {
  it("are written as U+FFFD, the same text as the protobuf encoder's", () => {
    const context = new LogEmitContext(new Resource({}), { name: "s" });
    const data = toLogRecordData({
      body: "a\ud800b",
      attributes: { "k\udc00": "v\udbff", ok: ["x\ud83d"] },
      severityText: "\udfff",
    }, context);
    const bytes = encodeLogsRequestJson([data]);
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    assert.doesNotMatch(text, /\\ud[89a-f]/i);
    const record = JSON.parse(text).resourceLogs[0].scopeLogs[0].logRecords[0];
    assert.equal(record.body.stringValue, "a\ufffdb");
    assert.equal(record.attributes[0].key, "k\ufffd");
    assert.equal(record.attributes[0].value.stringValue, "v\ufffd");
    assert.equal(
      record.attributes[1].value.arrayValue.values[0].stringValue,
      "x\ufffd",
    );
    assert.equal(record.severityText, "\ufffd");
    const proto = decodeLogs(encodeLogsRequest([data]))
      .resourceLogs[0].scopeLogs[0].logRecords[0];
    assert.equal(proto.body.stringValue, record.body.stringValue);
    assert.equal(proto.attributes[0].key, record.attributes[0].key);
  });

  it("keeps well-formed text and a literal backslash-u as they are", () => {
    const context = new LogEmitContext(new Resource({}), { name: "s" });
    const data = toLogRecordData({ body: "\\ud800 \u{1F600}" }, context);
    const record = JSON.parse(
      new TextDecoder().decode(encodeLogsRequestJson([data])),
    ).resourceLogs[0].scopeLogs[0].logRecords[0];
    assert.equal(record.body.stringValue, "\\ud800 \u{1F600}");
  });

  it("span names, attributes and events too", async () => {
    const { InMemoryExporter, SimpleSpanProcessor } = await import(
      "../../mod.ts"
    );
    const exporter = new InMemoryExporter<never>();
    const provider = new TracerProvider({
      resource: new Resource({}),
      processors: [new SimpleSpanProcessor(exporter)],
      diagnostics: quiet,
    });
    const span = provider.getTracer("t").startSpan("n\ud800", {
      attributes: { a: "\udc00" },
    });
    span.addEvent("e\udbff");
    span.end();
    await provider.forceFlush();
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      encodeTraceRequestJson(exporter.items),
    );
    const s = JSON.parse(text).resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(s.name, "n\ufffd");
    assert.equal(s.attributes[0].value.stringValue, "\ufffd");
    assert.equal(s.events[0].name, "e\ufffd");
    await provider.shutdown();
  });
});

// Built from entries: as an object literal, linters see the lone
// surrogates as one key.
const COLLIDING: Record<string, number> = Object.fromEntries([
  ["a\ud800", 1], // written "a\ufffd"
  ["a\udc00", 2], // also "a\ufffd"
  ["a\ufffd", 3], // the same, well-formed
  ["c", 7],
]);

describe("EventHeader: keys equal once written give one field", () => {
  it("logs: the first is kept, the rest counted, on every emit (cache hits included)", () => {
    const fake = new FakeLibc();
    const processor = new UserEventsProcessor(fake, {
      providerName: "dup",
      userEventsDataPath: "/fake",
      diagnostics: quiet,
      resourceAttributes: ["c"],
    });
    for (const r of fake.registrations) fake.enable(r.name);
    const context = new LogEmitContext(new Resource({ c: "resource" }), {
      name: "s",
    });
    const attributes = { ...COLLIDING, "b\0": 4, "b;": 5, b_: 6 };
    for (let i = 0; i < 3; i++) {
      processor.onEmit({ severityNumber: 9, attributes }, context);
    }
    assert.equal(processor.stats.written, 3);
    assert.equal(processor.stats.duplicateFields, 3 * 5);
    for (const w of fake.writes) {
      const event = decodeEventHeader(fake.nameOfIndex(w.index), w.event);
      const partC = members(event.fields, "PartC");
      assert.deepEqual(partC.map(([n]) => n), ["a\ufffd", "c", "b_"]);
      assert.deepEqual(partC.map(([, v]) => Number(v)), [1, 7, 4]);
    }
  });

  it("spans: the same rule", () => {
    const fake = new FakeLibc();
    const processor = new UserEventsSpanProcessor(fake, {
      providerName: "dupspans",
      userEventsDataPath: "/fake",
      diagnostics: quiet,
    });
    for (const r of fake.registrations) fake.enable(r.name);
    const provider = new TracerProvider({
      resource: new Resource({}),
      processors: [processor],
      diagnostics: quiet,
    });
    provider.getTracer("t").startSpan("s", { attributes: COLLIDING }).end();
    assert.equal(processor.stats.written, 1);
    assert.equal(processor.stats.duplicateFields, 2);
    const w = fake.writes[0];
    const event = decodeEventHeader(fake.nameOfIndex(w.index), w.event);
    assert.deepEqual(members(event.fields, "PartC").map(([n]) => n), [
      "a\ufffd",
      "c",
    ]);
  });
});

describe("TraceLogging: keys equal once written give one field", () => {
  it("logs: the first is kept (resource attributes come first in PartC), the rest counted", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const processor = new EtwProcessor(fake, {
      providerName: "Dup",
      diagnostics: quiet,
      resourceAttributes: ["c"],
    });
    const logs = new LoggerProvider({
      resource: new Resource({ c: "resource" }),
      processors: [processor],
      diagnostics: quiet,
    });
    const attributes = { ...COLLIDING, "b\0": 4, "b?": 5 };
    for (let i = 0; i < 3; i++) {
      logs.getLogger("l").emit({ severityNumber: 9, attributes });
    }
    assert.equal(processor.stats.written, 3);
    assert.equal(processor.stats.duplicateFields, 3 * 4);
    for (const w of fake.writes) {
      const event = decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes);
      const partC = members(event.fields, "PartC");
      assert.deepEqual(partC.map(([n]) => n), ["c", "a\ufffd", "b?"]);
      assert.deepEqual(partC.map(([, v]) => v), ["resource", 1n, 4n]);
    }
  });

  it("spans: the same rule", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const processor = new EtwSpanProcessor(fake, {
      providerName: "DupSpans",
      diagnostics: quiet,
    });
    const provider = new TracerProvider({
      resource: new Resource({}),
      processors: [processor],
      diagnostics: quiet,
    });
    provider.getTracer("t").startSpan("s", { attributes: COLLIDING }).end();
    assert.equal(processor.stats.written, 1);
    assert.equal(processor.stats.duplicateFields, 2);
    const w = fake.writes[0];
    const event = decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes);
    assert.deepEqual(members(event.fields, "PartC").map(([n]) => n), [
      "a\ufffd",
      "c",
    ]);
  });
});

describe("TraceLogging JSON values: lone surrogates", () => {
  it("a structured value is written as JSON with U+FFFD, never a \\udXXX escape", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const processor = new EtwProcessor(fake, {
      providerName: "Json",
      diagnostics: quiet,
    });
    processor.onEmit(
      { severityNumber: 9, body: { "k\ud800": ["v\udc00"] } },
      new LogEmitContext(new Resource({}), { name: "s" }),
    );
    const w = fake.writes[0];
    const event = decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes);
    const body = members(event.fields, "PartB").find(([n]) => n === "body");
    assert.ok(body);
    assert.doesNotMatch(String(body[1]), /\\ud[89a-f]/i);
    assert.deepEqual(JSON.parse(String(body[1])), { "k\ufffd": ["v\ufffd"] });
  });
});
