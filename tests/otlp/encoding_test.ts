// The protobuf and JSON encoders, decoded by protobufjs with the official
// OTLP definitions (and by JSON.parse), compared field by field.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type AnyValue,
  AttributeSanitizer,
  InMemoryExporter,
  LogEmitContext,
  type LogRecord,
  type LogRecordData,
  type ReadableSpan,
  Resource,
  SimpleSpanProcessor,
  type SpanKind,
  SpanStatusCode,
  toLogRecordData,
  TracerProvider,
} from "../../mod.ts";
import {
  decodePartialSuccess,
  decodeStatusMessage,
} from "../../exporters/_otlp_response.ts";
import {
  encodeLogsRequest,
  writeLogsRequest,
} from "../../exporters/_otlp_logs_proto.ts";
import { encodeTraceRequest } from "../../exporters/_otlp_trace_proto.ts";
import { ProtoBuffer } from "../../exporters/_proto_writer.ts";
import {
  encodeLogsRequestJson,
  encodeTraceRequestJson,
} from "../../exporters/_otlp_json.ts";
import {
  type Decoded,
  decodeLogs,
  decodeTrace,
  encodeResponse,
  LogsResponse,
  TraceResponse,
} from "./_decoder.ts";
import {
  assertLogRecord,
  assertLogsRequest,
  assertResource,
  assertScope,
  assertSpan,
  jsonToDecoded,
} from "./_expect.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

/** One value of every AnyValue kind, plus the edges of each encoding. */
export const VALUES: AnyValue[] = [
  "plain ascii",
  "",
  "non-ascii: héllo wörld ✓ 𝄞",
  "x".repeat(300),
  "é".repeat(5000),
  "a".repeat(70000),
  true,
  false,
  0,
  42,
  -1,
  -9007199254740991,
  9007199254740991,
  2 ** 31,
  2 ** 40 + 3,
  1.5,
  -0.25,
  NaN,
  Infinity,
  -Infinity,
  2 ** 60,
  9007199254740993n,
  -9223372036854775808n,
  9223372036854775807n,
  new Uint8Array([0, 1, 255]),
  new Uint8Array(0),
  new Uint8Array(300).fill(7),
  null,
  [1, "two", [3, null], { four: 4 }],
  { nested: { deep: [true, new Uint8Array([9])] }, empty: {}, list: [] },
  [],
  {},
  Array.from({ length: 200 }, (_, i) => i * 1000),
];

const resourceA = new Resource({
  "service.name": "a",
  "service.instance.id": "i-1",
  weight: 1.25,
});
const resourceB = new Resource(
  { "service.name": "b", tags: ["x", "y"] },
  "https://opentelemetry.io/schemas/1.26.0",
);
const scope1 = {
  name: "scope-1",
  version: "1.0.0",
  attributes: { "scope.flag": true },
};
const scope2 = {
  name: "scope-2",
  schemaUrl: "https://opentelemetry.io/schemas/1.24.0",
};

/**
 * Encodes `records` `rounds` times, as one request and one record at a time
 * (so each record starts against the last one's keys and values), and
 * checks every decoded record against its input: the encoder's memos of
 * keys and values carry from one request to the next.
 */
function assertRoundTrips(records: LogRecordData[], rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    const decoded = decodeLogs(encodeLogsRequest(records));
    const logRecords: Decoded[] =
      decoded.resourceLogs[0].scopeLogs[0].logRecords;
    records.forEach((r, i) => assertLogRecord(logRecords[i], r, i));
    for (const r of records) {
      const one = decodeLogs(encodeLogsRequest([r]));
      assertLogRecord(one.resourceLogs[0].scopeLogs[0].logRecords[0], r, 0);
    }
  }
}

function makeRecords(count: number): LogRecordData[] {
  const contexts = [
    new LogEmitContext(resourceA, scope1),
    new LogEmitContext(resourceB, scope1),
    new LogEmitContext(resourceA, scope2, {
      sanitizer: new AttributeSanitizer({ attributeCountLimit: 2 }),
    }),
    new LogEmitContext(resourceB, scope2),
  ];
  const out: LogRecordData[] = [];
  for (let i = 0; i < count; i++) {
    const record: LogRecord = {
      timestamp: i % 7 === 0
        ? undefined
        : 1_700_000_000_123_456_789n + BigInt(i * 1_000_003),
      observedTimestamp: 1_700_000_001_000_000_000n + BigInt(i * 1024),
      severityNumber: i % 25,
      severityText: i % 3 === 0 ? undefined : ["INFO", "WARN", "ÉRREUR"][i % 3],
      body: i % 11 === 10 ? undefined : VALUES[i % VALUES.length],
      attributes: {
        "http.request.method": "GET",
        "http.response.status_code": 200 + i,
        value: VALUES[(i * 7) % VALUES.length],
        ...(i % 2 === 0 ? { "url.path": `/items/${i}`, ratio: i / 3 } : {}),
      },
      eventName: i % 5 === 0 ? `event.${i}` : undefined,
      ...(i % 4 === 1
        ? {}
        : { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: i % 2 }),
    };
    const context = contexts[i % contexts.length];
    out.push(toLogRecordData(record, context));
  }
  return out;
}

async function makeSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemoryExporter<ReadableSpan>();
  const provider = new TracerProvider({
    resource: resourceA,
    processors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("tracer-1", "2.0.0");
  const other = provider.getTracer("tracer-2");
  const remoteParent = {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: 1,
    isRemote: true,
    traceState: "k=v",
  };
  for (let kind = 0; kind <= 4; kind++) {
    const span = (kind % 2 === 0 ? tracer : other).startSpan(`span-${kind}`, {
      kind: kind as SpanKind,
      attributes: {
        kind,
        "peer.service": "db",
        list: [1, 2],
        bytes: new Uint8Array([kind]),
      },
      startTime: 1_700_000_000_000_000_000n + BigInt(kind),
      parent: kind === 1 ? remoteParent : undefined,
      links: kind === 2
        ? [{
          context: {
            traceId: TRACE_ID,
            spanId: "1111111111111111",
            traceFlags: 1,
            traceState: "a=b",
          },
          attributes: { why: "batch" },
        }]
        : undefined,
    });
    span.addEvent("started", { step: 1 }, 1_700_000_000_000_000_500n);
    if (kind === 3) {
      span.addEvent("ünïcode", undefined, [1_700_000_000, 600]);
    }
    span.setStatus(
      kind === 4
        ? { code: SpanStatusCode.ERROR, message: "boom" }
        : { code: SpanStatusCode.OK },
    );
    span.end(1_700_000_000_000_001_000n + BigInt(kind));
  }
  const child = tracer.startSpan("child", {
    parent: exporter.items[0] as never,
  });
  child.end();
  await provider.forceFlush();
  return exporter.items;
}

describe("encodeLogsRequest", () => {
  it("encodes ids from the snapshot's cache of valid pairs only for the very pair cached", () => {
    // The encoder copies a pair's bytes from the snapshot's cache when the
    // record's two id strings are the pair in its slot; a record whose slot
    // took another pair since (same first three span-id digits), a pair
    // with another trace id, a half pair and hand-made data must be
    // encoded from their own strings.
    const context = new LogEmitContext(resourceA, scope1);
    const S = "abc067aa0ba902b7";
    const sameSlot = "abcf67aa0ba902b7"; // same slot and last character
    const T2 = "5bf92f3577b34da6a3ce929d0e0e4736";
    const snap = (traceId: string, spanId: string): LogRecordData =>
      toLogRecordData({ body: "x", traceId, spanId }, context);
    const a = snap(TRACE_ID, S);
    const a2 = snap(TRACE_ID, S); // a hit
    const b = snap(TRACE_ID, sameSlot); // replaces a's pair in the slot
    const c = snap(T2, sameSlot); // and again, another trace id
    const d = snap(TRACE_ID, SPAN_ID);
    const handMade: LogRecordData[] = [
      { ...d, traceId: T2 }, // d's span id, another trace id
      { ...d, spanId: undefined }, // half pairs
      { ...d, traceId: undefined },
      { ...d, traceId: "0af7651916cd43dd8448eb211c80319c", spanId: S },
    ];
    const records = [a, a2, b, c, d, ...handMade, a, b, c, d];
    assert.equal(a.spanId, S);
    assert.equal(c.traceId, T2);
    const decoded = decodeLogs(encodeLogsRequest(records));
    assertLogsRequest(decoded, records);
    // Through a reused buffer too, twice (the bytes are computed once).
    const out = new ProtoBuffer();
    for (let i = 0; i < 2; i++) {
      const n = writeLogsRequest(records, out, 0);
      assert.deepEqual(
        out.bytes.subarray(0, n),
        encodeLogsRequest(records),
      );
    }
    // c's bytes are in the slot now; a snapshot of a's pair takes the slot
    // back, and its bytes must be a's, not c's.
    const e = snap(TRACE_ID, S);
    assertLogsRequest(decodeLogs(encodeLogsRequest([e, c, e])), [e, c, e]);
  });

  it("encodes every field of every record so that protobufjs decodes them back", () => {
    const records = makeRecords(200);
    const bytes = encodeLogsRequest(records);
    assertLogsRequest(decodeLogs(bytes), records);
  });

  it("round-trips every AnyValue kind as a body and as an attribute", () => {
    const context = new LogEmitContext(resourceA, scope1);
    const records = VALUES.map((value, i) => {
      const data = toLogRecordData({
        body: value,
        attributes: { value },
        observedTimestamp: i + 1,
      }, context);
      return data;
    });
    const decoded = decodeLogs(encodeLogsRequest(records));
    const logRecords: Decoded[] =
      decoded.resourceLogs[0].scopeLogs[0].logRecords;
    assert.equal(logRecords.length, VALUES.length);
    records.forEach((r, i) => assertLogRecord(logRecords[i], r, i));
  });

  it("writes every attribute key right while keys repeat, move, change and turn non-ASCII", () => {
    // The encoder reuses the bytes of a key seen at the same position in the
    // previous record; this walks it through hits, misses and keys it never
    // caches (non-ASCII, longer than its slots, equal but distinct strings).
    const context = new LogEmitContext(resourceA, scope1);
    const long = "k".repeat(47);
    const keySets: string[][] = [
      ["a", "bb", "ccc"],
      ["a", "bb", "ccc"],
      ["bb", "a", "ccc"],
      ["a", "clé", "ccc"],
      ["a", "clé", "ccc"],
      [long, long + "x", "k".repeat(200)],
      [long, long + "x", "k".repeat(200)],
      ["a".concat("b", "b"), ["a", "b", "b"].join(""), "x"],
      [
        "abb",
        "c",
        "d",
        "e",
        "f",
        "g",
        "h",
        "i",
        "j",
        "k",
        "l",
        "m",
        "n",
        "o",
        "p",
        "q",
        "r",
        "s",
      ],
      [
        "abb",
        "c",
        "d",
        "e",
        "f",
        "g",
        "h",
        "i",
        "j",
        "k",
        "l",
        "m",
        "n",
        "o",
        "p",
        "q",
        "r",
        "s",
      ],
      ["a"],
      [],
      ["a", "bb", "ccc"],
    ];
    const records = keySets.map((keys, i) => {
      const attributes: Record<string, AnyValue> = {};
      keys.forEach((key, j) => attributes[key] = i * 100 + j);
      return toLogRecordData({ attributes, observedTimestamp: i + 1 }, context);
    });
    assertRoundTrips(records, 2);
  });

  it("writes every string value right while values repeat, move, change and turn non-ASCII", () => {
    // The encoder keeps the bytes of a string value seen twice in a row at
    // the same position and copies them the third time on; this walks it
    // through first, second and later sightings, values that change every
    // record, equal but distinct strings, non-ASCII and long values, and a
    // value that moves to another position or turns into a number.
    const context = new LogEmitContext(resourceA, scope1);
    const ua =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const s127 = "v".repeat(127);
    const s128 = "w".repeat(128);
    const rows: AnyValue[][] = [];
    for (let i = 0; i < 9; i++) rows.push(["GET", ua, `/users/${i}`, s127]);
    rows.push(["GET", ua.slice(0, -1) + "7", "/users/9", s128]);
    rows.push(["G".concat("ET"), ua, "/users/9", s128]);
    rows.push([["G", "E", "T"].join(""), "café", "café", s128]);
    rows.push(["GET", "café", "café", s128]);
    rows.push(["GET", "café", "café", "x"]);
    rows.push([ua, "GET", 7, "x"]);
    rows.push([ua, "GET", "/users/9", "x"]);
    rows.push([ua, "GET", "/users/9", ""]);
    rows.push([ua, "GET", "/users/9", ""]);
    rows.push([ua, "GET", "/users/9", ""]);
    rows.push(["GET", "GET", "GET", "GET"]);
    rows.push(["GET", "GET", "GET", "GET"]);
    rows.push(["GET", "GET", "GET", "GET"]);
    const records = rows.map((values, i) => {
      const attributes: Record<string, AnyValue> = {};
      values.forEach((v, j) => attributes[`k${j}`] = v);
      return toLogRecordData({ attributes, observedTimestamp: i + 1 }, context);
    });
    assertRoundTrips(records, 3);
  });

  it("writes every string value right while a value slot is skipped after changing values and tried again", () => {
    // Four values in a row that are not the slot's last one make the encoder
    // leave that slot alone for the next 64 values, then try it again with
    // the value it held before: this walks a slot through misses, the skip
    // (equal, changing and non-ASCII values while skipped), its end on a
    // value equal to the one held before it, and hits after it, while
    // another slot keeps hitting.
    const context = new LogEmitContext(resourceA, scope1);
    const methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    const rows: AnyValue[][] = [];
    for (let i = 0; i < 3; i++) rows.push(["GET", "same"]);
    for (let i = 0; i < 5; i++) rows.push([methods[i], "same"]);
    for (let i = 0; i < 70; i++) {
      rows.push([
        i % 7 === 0 ? "ünï" : i < 40 ? "GET" : methods[i % 5],
        "same",
      ]);
    }
    for (let i = 0; i < 140; i++) rows.push([i < 70 ? "PATCH" : "GET", "same"]);
    for (let i = 0; i < 300; i++) rows.push([methods[(i * 7) % 5], "same"]);
    const records = rows.map((values, i) => {
      const attributes: Record<string, AnyValue> = {};
      values.forEach((v, j) => attributes[`k${j}`] = v);
      return toLogRecordData({ attributes, observedTimestamp: i + 1 }, context);
    });
    assertRoundTrips(records, 3);
  });

  it("writes every record length right whichever length prefix it guessed", () => {
    // The encoder guesses a 1- or 2-byte length prefix per record from its
    // fields and the previous record's attributes; these records make both
    // guesses wrong in turn (short after long attributes, non-ASCII bodies
    // that look short, structured bodies that are short), and right.
    const context = new LogEmitContext(resourceA, scope1);
    const many: Record<string, AnyValue> = {};
    for (let i = 0; i < 12; i++) many["attribute." + i] = "value " + i;
    const inputs: LogRecord[] = [
      { body: "x", attributes: many },
      { body: "short" },
      { body: "é".repeat(60), severityText: "INFO" },
      { body: "ascii only" },
      { body: { a: 1 } },
      { body: "y".repeat(100) },
      { body: "z".repeat(95), attributes: { k: 1 } },
      { body: "ü".repeat(40), attributes: { k: "ö".repeat(30) } },
      { eventName: "e".repeat(120) },
      {},
      { body: "w".repeat(20000) },
      { body: "tiny", attributes: many },
    ];
    const records = inputs.map((input, i) =>
      toLogRecordData({ ...input, observedTimestamp: i + 1 }, context)
    );
    for (let round = 0; round < 2; round++) {
      const decoded = decodeLogs(encodeLogsRequest(records));
      const logRecords: Decoded[] =
        decoded.resourceLogs[0].scopeLogs[0].logRecords;
      assert.equal(logRecords.length, records.length);
      records.forEach((r, i) => assertLogRecord(logRecords[i], r, i));
      records.reverse();
    }
  });

  it("groups records by resource, then by scope, keeping their order", () => {
    const records = makeRecords(12);
    const decoded = decodeLogs(encodeLogsRequest(records));
    assert.equal(decoded.resourceLogs.length, 2);
    assert.equal(decoded.resourceLogs[0].scopeLogs.length, 2);
    assert.equal(decoded.resourceLogs[1].scopeLogs.length, 2);
    assert.deepEqual(
      decoded.resourceLogs[0].scopeLogs[0].logRecords.map((r: Decoded) =>
        r.observedTimeUnixNano
      ),
      [0, 4, 8].map((i) =>
        String(1_700_000_001_000_000_000n + BigInt(i * 1024))
      ),
    );
  });

  it("writes an empty request for no records and reuses the caller's buffer", () => {
    assert.equal(encodeLogsRequest([]).length, 0);
    const out = new ProtoBuffer(16); // far too small: it grows
    const records = makeRecords(20);
    const end = writeLogsRequest(records, out, 3);
    assertLogsRequest(decodeLogs(out.bytes.subarray(3, end)), records);
    const again = writeLogsRequest(records, out, 0);
    assert.equal(again, end - 3);
  });

  it("returns bytes that later calls never overwrite", () => {
    const first = makeRecords(30);
    const second = makeRecords(7).reverse();
    const a = encodeLogsRequest(first);
    const copy = a.slice();
    for (let i = 0; i < 50; i++) {
      encodeLogsRequest(i % 2 === 0 ? second : first);
    }
    assert.deepEqual(a, copy);
    assertLogsRequest(decodeLogs(a), first);
  });

  it("writes a time beyond 2^53 ns exactly as two 32-bit halves", () => {
    const context = new LogEmitContext(resourceA, scope1);
    const record = toLogRecordData({
      timestamp: 2n ** 63n + 1n,
      observedTimestamp: 2n ** 64n - 1n,
    }, context);
    const decoded = decodeLogs(encodeLogsRequest([record]));
    const r = decoded.resourceLogs[0].scopeLogs[0].logRecords[0];
    assert.equal(r.timeUnixNano, "9223372036854775809");
    assert.equal(r.observedTimeUnixNano, "18446744073709551615");
  });

  it("writes each time pair checked once: exact ones as their nanoseconds, any other pair left out (absent)", () => {
    // putTime checks the pair and splits it into uint32 halves itself (it
    // no longer calls writeUnixNanoFixed64, which checked again): the
    // halves' carries (ms around 2^32, nanos 999999), the last exact ns, and
    // hand-made pairs that are not exact times (left out, as 0 is).
    const base = toLogRecordData(
      { timestamp: 1, observedTimestamp: 1 },
      new LogEmitContext(resourceA, scope1),
    );
    const exact: [number, number, string][] = [
      [0, 1, "1"],
      [-0, 5, "5"],
      [1, 0, "1000000"],
      [2 ** 32 - 1, 999_999, String(BigInt(2 ** 32 - 1) * 1000000n + 999999n)],
      [2 ** 32, 0, String(2n ** 32n * 1000000n)],
      [2 ** 32 + 1, 123, String((2n ** 32n + 1n) * 1000000n + 123n)],
      [4_294_967_295_999, 999_999, "4294967295999999999"],
      [18_446_744_073_709, 551_615, "18446744073709551615"],
    ];
    const inexact: [unknown, unknown][] = [
      [18_446_744_073_709, 551_616], // 2^64 ns
      [18_446_744_073_710, 0],
      [1.5, 0],
      [1, 0.5],
      [NaN, 0],
      [Infinity, 0],
      [-1, 0],
      [1, -1],
      [1, 1_000_000],
      [5n, 0],
      ["5", 0],
      [{ valueOf: () => 5 }, 0],
      [0, 0],
    ];
    const records: LogRecordData[] = [
      ...exact.map(([ms, ns]) => ({
        ...base,
        timeUnixMs: ms,
        timeNanosInMs: ns,
        observedTimeUnixMs: ms,
        observedTimeNanosInMs: ns,
      })),
      ...inexact.map(([ms, ns]) =>
        ({
          ...base,
          timeUnixMs: ms,
          timeNanosInMs: ns,
          observedTimeUnixMs: ms,
          observedTimeNanosInMs: ns,
        }) as unknown as LogRecordData
      ),
    ];
    const decoded = decodeLogs(encodeLogsRequest(records));
    const got = decoded.resourceLogs[0].scopeLogs[0].logRecords;
    assert.equal(got.length, records.length);
    exact.forEach(([ms, ns, want], i) => {
      assert.equal(got[i].timeUnixNano, want, `time of [${ms}, ${ns}]`);
      assert.equal(
        got[i].observedTimeUnixNano,
        want,
        `observed [${ms}, ${ns}]`,
      );
    });
    inexact.forEach(([ms, ns], k) => {
      const r = got[exact.length + k];
      assert.equal(r.timeUnixNano, undefined, `time of [${String(ms)}, ${ns}]`);
      assert.equal(
        r.observedTimeUnixNano,
        undefined,
        `observed [${String(ms)}]`,
      );
    });
  });
});

describe("encodeTraceRequest", () => {
  it("encodes every field of every span so that protobufjs decodes them back", async () => {
    const spans = await makeSpans();
    const decoded = decodeTrace(encodeTraceRequest(spans));
    assert.equal(decoded.resourceSpans.length, 1);
    const rs = decoded.resourceSpans[0];
    assertResource(rs, resourceA);
    const scopes = [...new Set(spans.map((s) => s.scope))];
    assert.equal(rs.scopeSpans.length, scopes.length);
    scopes.forEach((scope, si) => {
      assertScope(rs.scopeSpans[si], scope);
      const expected = spans.filter((s) => s.scope === scope);
      assert.equal(rs.scopeSpans[si].spans.length, expected.length);
      expected.forEach((s, k) => assertSpan(rs.scopeSpans[si].spans[k], s, k));
    });
  });

  it("maps API span kinds 0-4 to OTLP 1-5 and marks a remote parent", async () => {
    const spans = await makeSpans();
    const decoded = decodeTrace(encodeTraceRequest(spans));
    const all: Decoded[] = decoded.resourceSpans[0].scopeSpans.flatMap((
      s: Decoded,
    ) => s.spans);
    const byName = new Map(all.map((s) => [s.name, s]));
    assert.equal(byName.get("span-0").kind, 1); // INTERNAL
    assert.equal(byName.get("span-1").kind, 2); // SERVER
    assert.equal(byName.get("span-2").kind, 3); // CLIENT
    assert.equal(byName.get("span-3").kind, 4); // PRODUCER
    assert.equal(byName.get("span-4").kind, 5); // CONSUMER
    assert.equal(byName.get("span-1").flags, 0x301); // sampled, has-is-remote, is-remote
    assert.equal(byName.get("span-0").flags & 0x300, 0x100);
    assert.equal(byName.get("span-4").status.code, 2);
  });
});

describe("encodeLogsRequestJson", () => {
  it("follows the OTLP JSON mapping and carries every field", () => {
    const records = makeRecords(60);
    const text = new TextDecoder().decode(encodeLogsRequestJson(records));
    const parsed = JSON.parse(text);
    assert.ok(Array.isArray(parsed.resourceLogs), "lowerCamelCase keys");
    assert.match(text, /"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"/);
    assert.match(text, /"spanId":"00f067aa0ba902b7"/);
    assert.match(text, /"observedTimeUnixNano":"1700000001000000000"/);
    assert.match(text, /"severityNumber":9[,}]/);
    assert.match(text, /"intValue":"42"/);
    assert.match(text, /"intValue":"9007199254740993"/);
    assert.match(text, /"bytesValue":"AAH\/"/);
    assert.match(text, /"doubleValue":"NaN"/);
    assert.doesNotMatch(text, /_[a-z]+":/, "no snake_case keys");
    assertLogsRequest(jsonToDecoded(parsed), records);
  });
});

describe("encodeTraceRequestJson", () => {
  it("follows the OTLP JSON mapping and carries every field", async () => {
    const spans = await makeSpans();
    const text = new TextDecoder().decode(encodeTraceRequestJson(spans));
    assert.match(text, /"kind":5/);
    assert.match(text, /"startTimeUnixNano":"1700000000000000000"/);
    const decoded = jsonToDecoded(JSON.parse(text));
    const all: Decoded[] = decoded.resourceSpans[0].scopeSpans.flatMap((
      s: Decoded,
    ) => s.spans);
    const expected = [...new Set(spans.map((s) => s.scope))].flatMap((scope) =>
      spans.filter((s) => s.scope === scope)
    );
    assert.equal(all.length, spans.length);
    expected.forEach((s, i) => {
      const d = {
        ...all[i],
        status: Object.keys(all[i].status).length === 0
          ? undefined
          : all[i].status,
      };
      assertSpan(d, s, i);
    });
  });
});

describe("decodePartialSuccess", () => {
  it("reads rejected counts and messages that protobufjs encoded", () => {
    const logs = encodeResponse(LogsResponse, {
      partialSuccess: { rejectedLogRecords: 3, errorMessage: "too old" },
    });
    assert.deepEqual(decodePartialSuccess(logs), {
      rejected: 3,
      message: "too old",
    });
    const spans = encodeResponse(TraceResponse, {
      partialSuccess: { rejectedSpans: 2 },
    });
    assert.deepEqual(decodePartialSuccess(spans), { rejected: 2, message: "" });
    assert.equal(decodePartialSuccess(new Uint8Array(0)), undefined);
    assert.throws(
      () => decodePartialSuccess(new Uint8Array([0x0a, 0x05, 0x08])),
      RangeError,
    );
  });

  it("reads a google.rpc.Status message", () => {
    // code = 3 (field 1), message = "bad" (field 2)
    assert.equal(
      decodeStatusMessage(
        new Uint8Array([0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]),
      ),
      "bad",
    );
    assert.equal(
      decodeStatusMessage(new Uint8Array([0x12, 0x09, 0x62])),
      undefined,
    );
  });
});
