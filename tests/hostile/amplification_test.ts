// The amplification bound: a value that shares sub-objects (24 levels of
// `v = { a: v, b: v }`: 25 objects, 2^25 paths) as a log body, a log
// attribute and a span attribute goes through every encoder with bounded
// work and output. Each output is decoded by a decoder that is not the
// encoder's twin and its nodes counted. Before the bound, Deno died out of
// memory, Bun took 91 s, and the OTLP/JSON body reached 148 MB.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AttributeSanitizer,
  InMemoryExporter,
  LogEmitContext,
  LoggerProvider,
  type LogRecordData,
  MAX_VALUE_NODES,
  MAX_VALUE_SIZE,
  type ReadableSpan,
  Resource,
  SimpleLogRecordProcessor,
  SimpleSpanProcessor,
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
  decodeEventHeader,
  UserEventsProcessor,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  EtwSpanProcessor,
} from "../../processors/etw/mod.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { decodeLogs, decodeTrace } from "../otlp/_decoder.ts";
import { sharedLevels } from "./_hostile.ts";

const quiet = () => {};
// The bound on one encoded value: every node may cost a few bytes of
// framing, every code unit up to 3 bytes of UTF-8 (or 6 as a JSON escape).
const MAX_VALUE_BYTES = MAX_VALUE_NODES * 32 + MAX_VALUE_SIZE * 6;
// Not a benchmark: only a guard that fails on the unbounded expansion
// (minutes, or out of memory) long before it would matter.
const GUARD_MS = 10_000;

/** Counts the AnyValue nodes of a decoded OTLP value (protobufjs objects). */
function countNodes(v: Record<string, unknown> | undefined): number {
  if (v === undefined || v === null) return 0;
  let n = 1;
  const kv = v.kvlistValue as { values?: { value?: never }[] } | undefined;
  if (kv) { for (const e of kv.values ?? []) n += countNodes(e.value); }
  const arr = v.arrayValue as { values?: never[] } | undefined;
  if (arr) { for (const e of arr.values ?? []) n += countNodes(e); }
  return n;
}

function timed<T>(what: string, fn: () => T): T {
  const start = performance.now();
  const out = fn();
  const ms = performance.now() - start;
  assert.ok(ms < GUARD_MS, `${what} took ${ms.toFixed(0)} ms`);
  return out;
}

describe("amplification bound: 24 levels of shared sub-objects", () => {
  it("the sanitizer visits at most MAX_VALUE_NODES nodes and counts the cut once", () => {
    const s = new AttributeSanitizer();
    const body = timed("value()", () => s.value(sharedLevels(24)));
    assert.equal(s.cut, 1);
    let nodes = 0;
    const walk = (v: unknown): void => {
      nodes++;
      if (v !== null && typeof v === "object") {
        for (const k in v) walk((v as Record<string, unknown>)[k]);
      }
    };
    walk(body);
    assert.ok(nodes <= MAX_VALUE_NODES + 1, `${nodes} nodes`);
    assert.ok(nodes > MAX_VALUE_NODES / 2, `kept only ${nodes} nodes`);
    // As an attribute set, the bound covers the whole set.
    const attrs = timed(
      "attributes()",
      () => s.attributes({ a: sharedLevels(24), b: sharedLevels(24), c: 1 }),
    );
    assert.equal(s.cut, 2);
    assert.ok(attrs !== undefined && "a" in attrs);
  });

  it("a shared string repeated is bounded by MAX_VALUE_SIZE", () => {
    const s = new AttributeSanitizer();
    const big = "x".repeat(1 << 20);
    const out = timed(
      "value()",
      () => s.value(new Array(1000).fill(big)),
    ) as string[];
    const total = out.reduce((sum, x) => sum + (x?.length ?? 0), 0);
    assert.ok(total <= MAX_VALUE_SIZE, `${total} code units`);
    assert.equal(s.cut, 1);
  });

  it("OTLP protobuf and JSON: a log body and attribute decode with bounded nodes and bytes", () => {
    const context = new LogEmitContext(new Resource({}), { name: "s" });
    const data = timed("toLogRecordData", () =>
      toLogRecordData({
        body: sharedLevels(24),
        attributes: { shared: sharedLevels(24), ok: 1 },
      }, context));
    const proto = timed("proto", () => encodeLogsRequest([data]));
    assert.ok(proto.length < 2 * MAX_VALUE_BYTES, `${proto.length} bytes`);
    const decoded = decodeLogs(proto);
    const record = decoded.resourceLogs[0].scopeLogs[0].logRecords[0];
    assert.ok(countNodes(record.body) <= MAX_VALUE_NODES + 1);
    const json = timed("json", () => encodeLogsRequestJson([data]));
    assert.ok(json.length < 2 * MAX_VALUE_BYTES, `${json.length} bytes`);
    JSON.parse(new TextDecoder().decode(json));
  });

  it("OTLP protobuf and JSON: span attributes, event and link attributes", async () => {
    const exporter = new InMemoryExporter<ReadableSpan>();
    const provider = new TracerProvider({
      resource: new Resource({}),
      processors: [new SimpleSpanProcessor(exporter)],
      diagnostics: quiet,
    });
    timed("span", () => {
      const span = provider.getTracer("t").startSpan("s", {
        attributes: { shared: sharedLevels(24) },
        links: [{
          context: {
            traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
            spanId: "00f067aa0ba902b7",
            traceFlags: 1,
          },
          attributes: { shared: sharedLevels(24) },
        }],
      });
      span.setAttribute("again", sharedLevels(24) as never);
      span.addEvent("e", { shared: sharedLevels(24) } as never);
      span.end();
    });
    await provider.forceFlush();
    const spans = exporter.items;
    const proto = timed("proto", () => encodeTraceRequest(spans));
    assert.ok(proto.length < 5 * MAX_VALUE_BYTES, `${proto.length} bytes`);
    const decoded = decodeTrace(proto);
    const span = decoded.resourceSpans[0].scopeSpans[0].spans[0];
    for (const kv of span.attributes) {
      assert.ok(countNodes(kv.value) <= MAX_VALUE_NODES + 1);
    }
    const json = timed("json", () => encodeTraceRequestJson(spans));
    assert.ok(json.length < 5 * MAX_VALUE_BYTES, `${json.length} bytes`);
    assert.equal(provider.stats.cutValues, 4);
    await provider.shutdown();
  });

  it("EventHeader (user_events) and TraceLogging (ETW): logs and spans", async () => {
    const libc = new FakeLibc();
    const ue = new UserEventsProcessor(libc, {
      providerName: "amp",
      userEventsDataPath: "/fake",
      diagnostics: quiet,
    });
    const ueSpans = new UserEventsSpanProcessor(libc, {
      providerName: "ampspans",
      userEventsDataPath: "/fake",
      diagnostics: quiet,
    });
    for (const r of libc.registrations) libc.enable(r.name);
    const advapi = new FakeAdvapi32();
    advapi.enabledAnswer = 1;
    const etw = new EtwProcessor(advapi, {
      providerName: "Amp",
      diagnostics: quiet,
    });
    const etwSpans = new EtwSpanProcessor(advapi, {
      providerName: "AmpSpans",
      diagnostics: quiet,
    });
    const logs = new LoggerProvider({
      resource: new Resource({}),
      processors: [ue, etw],
      diagnostics: quiet,
    });
    const traces = new TracerProvider({
      resource: new Resource({}),
      processors: [ueSpans, etwSpans],
      diagnostics: quiet,
    });
    timed("emit", () =>
      logs.getLogger("l").emit({
        severityNumber: 9,
        body: sharedLevels(24),
        attributes: { shared: sharedLevels(24) } as never,
      }));
    timed("span", () =>
      traces.getTracer("t").startSpan("s", {
        attributes: { shared: sharedLevels(24) } as never,
      }).end());
    assert.equal(ue.stats.written, 1);
    assert.equal(ueSpans.stats.written, 1);
    assert.equal(libc.writes.length, 2);
    for (const w of libc.writes) {
      assert.ok(w.event.length <= 65536);
      decodeEventHeader(libc.nameOfIndex(w.index), w.event);
    }
    assert.equal(etw.stats.written + etw.stats.oversize, 1);
    assert.equal(etwSpans.stats.written + etwSpans.stats.oversize, 1);
    for (const w of advapi.writes) {
      assert.ok(w.blobs[2].bytes.length <= 65536);
      decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes);
    }
    assert.ok(logs.stats.cutValues >= 2);
    await logs.shutdown();
    await traces.shutdown();
  });

  it("batching processors keep the bounded copy, not the shared original", async () => {
    const exporter = new InMemoryExporter<LogRecordData>();
    const logs = new LoggerProvider({
      resource: new Resource({}),
      processors: [new SimpleLogRecordProcessor(exporter)],
      diagnostics: quiet,
    });
    const shared = sharedLevels(24);
    logs.getLogger("l").emit({ body: shared as never });
    await logs.forceFlush();
    assert.notEqual(exporter.items[0].body, shared);
    await logs.shutdown();
  });
});
