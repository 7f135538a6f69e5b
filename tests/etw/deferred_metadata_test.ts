import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LogEmitContext, type LogRecord, Resource } from "../../mod.ts";
import {
  InType,
  OUT_AUTO_UTF8,
  OutType,
  TraceLoggingWriter,
} from "../../processors/_tracelogging.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  type TraceLoggingField,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import { FakeAdvapi32 } from "./_fake_advapi32.ts";

function newWriter(budget?: number): TraceLoggingWriter {
  const buf = new Uint8Array(new ArrayBuffer(32768 + 65536));
  return new TraceLoggingWriter(buf, 0, 32768, 32768, 65536, budget);
}

function event(w: TraceLoggingWriter): [number[], number[]] {
  const meta = w.bytes.slice(
    w.metadataOffset,
    w.metadataOffset + w.metadataLength,
  );
  const pay = w.bytes.slice(w.payloadOffset, w.payloadOffset + w.payloadLength);
  return [[...meta], [...pay]];
}

// One event with every kind of field the processors write, values varying.
function write(
  w: TraceLoggingWriter,
  deferred: boolean,
  text: string,
  n: number,
) {
  w.reset("Log", 0, deferred);
  w.u16("__csver__", 0x400, OutType.UNSIGNED);
  const a = w.beginStruct("PartA");
  w.setStructCount(a, 2);
  w.rfc3339("time", 1704164645678, 123000 + n);
  const dt = w.beginStruct("ext_dt");
  w.setStructCount(dt, 1);
  w.str8("traceId", "4bf92f3577b34da6a3ce929d0e0e4736", 0);
  const mark = w.metadataPosition;
  const c = w.beginStruct("PartC");
  if (n % 2 === 0) {
    w.str8("key\0nul", text, OUT_AUTO_UTF8);
    w.int64("n", InType.INT64, n);
    w.setStructCount(c, 2);
  } else {
    w.rewindMetadata(mark);
  }
  const b = w.beginStruct("PartB");
  w.setStructCount(b, 4);
  w.str8("_typeName", "Log", 0);
  w.f64("body", n + 0.5);
  w.u8("ok", 1, OutType.BOOLEAN);
  w.binary("bytes", new Uint8Array([1, 2, n & 0xff]));
  return w.finish();
}

describe("TraceLoggingWriter deferred metadata", () => {
  it("writes the bytes of the normal mode, from the cache on repeated shapes", () => {
    const deferred = newWriter();
    const normal = newWriter();
    const texts = ["ascii", "ünïcode", "ascii again", "日本"];
    for (let round = 0; round < 3; round++) {
      for (let n = 0; n < 8; n++) {
        const text = texts[(n >> 1) % texts.length];
        assert.equal(write(deferred, true, text, n), true);
        assert.equal(deferred.needsExact, false);
        assert.equal(write(normal, false, text, n), true);
        assert.deepEqual(
          event(deferred),
          event(normal),
          `round ${round} n ${n}`,
        );
      }
    }
    // Shapes: PartC absent (odd n), PartC with an ASCII or a UTF-8 string.
    const cache = deferred.metadataCache;
    assert.equal(cache.misses, 3);
    assert.equal(cache.hits, 3 * 8 - 3);
    assert.equal(normal.metadataCache.hits + normal.metadataCache.misses, 0);
    // The OutType follows the value: UTF8 only for the non-ASCII one.
    const outTypeOf = (text: string) => {
      write(deferred, true, text, 0);
      const [meta, pay] = event(deferred);
      const fields = decodeTraceLogging(
        Uint8Array.from(meta),
        Uint8Array.from(pay),
      ).fields;
      const partC = fields.find((f) => f.name === "PartC")!
        .value as readonly TraceLoggingField[];
      assert.equal(partC[0].name, "key?nul");
      assert.equal(partC[0].value, text);
      return partC[0].outType;
    };
    assert.equal(outTypeOf("ünïcode"), OutType.UTF8);
    assert.equal(outTypeOf("plain"), 0);
    assert.equal(outTypeOf("日本"), OutType.UTF8);
  });

  it("asks for the normal mode near the budget or when a value would be cut", () => {
    const w = newWriter(2000);
    const normal = newWriter(2000);
    // 1995 of 2000 bytes: only the normal mode can tell whether it fits.
    w.reset("E", 0, true);
    w.str8("s", "x".repeat(1985), 0);
    assert.equal(w.finish(), false);
    assert.equal(w.needsExact, true);
    assert.equal(w.truncated, 0);
    normal.reset("E", 0, false);
    normal.str8("s", "x".repeat(1985), 0);
    assert.equal(normal.finish(), true);
    assert.equal(normal.metadataLength + normal.payloadLength, 1995);
    // A string longer than the room is cut in the normal mode only.
    w.reset("E", 0, true);
    w.str8("s", "y".repeat(5000), 0);
    assert.equal(w.finish(), false);
    assert.equal(w.needsExact, true);
    assert.equal(w.truncated, 0);
    // The normal mode plans the cut, the event written again fits.
    w.reset("E", 0, false);
    w.str8("s", "y".repeat(5000), 0);
    assert.equal(w.finish(), false);
    assert.equal(w.cutNext(), true);
    w.reset("E", 0, false);
    w.str8("s", "y".repeat(5000), 0);
    assert.equal(w.finish(), true);
    assert.equal(w.needsExact, false);
    assert.equal(w.truncated, 1);
    assert.equal(w.metadataLength + w.payloadLength, 2000);
    // A small event in deferred mode finishes.
    w.reset("E", 0, true);
    w.str8("s", "small", 0);
    assert.equal(w.finish(), true);
    assert.equal(w.finish(), true); // idempotent
  });
});

describe("EtwProcessor with cached metadata", () => {
  const context = new LogEmitContext(
    new Resource({ "service.name": "svc" }),
    { name: "t" },
  );
  const RECORD: LogRecord = {
    timestamp: new Date(1704164645678),
    severityNumber: 9,
    severityText: "INFO",
    body: "user signed in",
    attributes: { "user.id": 4242, method: "POST", retry: false },
  };

  it("writes the first event of a shape (rendered) and later ones (copied) alike", () => {
    const warm = new FakeAdvapi32();
    warm.enabledAnswer = 1;
    using a = new EtwProcessor(warm, { providerName: "Test.Cache" });
    a.onEmit(RECORD, context);
    a.onEmit({ ...RECORD, body: "ü" }, context); // the body's OutType changes
    a.onEmit(RECORD, context);
    const cold = new FakeAdvapi32();
    cold.enabledAnswer = 1;
    using b = new EtwProcessor(cold, { providerName: "Test.Cache" });
    b.onEmit(RECORD, context);
    assert.equal(warm.writes.length, 3);
    const bytesOf = (w: typeof warm.writes[0]) =>
      w.blobs.map((x) => [...x.bytes]);
    assert.deepEqual(bytesOf(warm.writes[2]), bytesOf(cold.writes[0]));
    assert.deepEqual(bytesOf(warm.writes[0]), bytesOf(cold.writes[0]));
    const body = traceLoggingFieldsToObject(
      decodeTraceLogging(
        warm.writes[1].blobs[1].bytes,
        warm.writes[1].blobs[2].bytes,
      )
        .fields,
    ).PartB as Record<string, unknown>;
    assert.equal(body.body, "ü");
  });

  it("counts each value cut near maxEventSize once, and writes the cut event", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, {
      providerName: "Test.Cache",
      maxEventSize: 2048,
    });
    const record = {
      ...RECORD,
      eventName: "user.login",
      body: "z".repeat(5000),
    };
    processor.onEmit(record, context);
    assert.equal(fake.writes.length, 1);
    // Only the body is cut, once, although the deferred pass and the first
    // normal pass saw it too.
    assert.equal(processor.stats.truncatedValues, 1);
    assert.equal(processor.stats.written, 1);
    const [traits, meta, payload] = fake.writes[0].blobs;
    // An ASCII cut fills the budget to the byte.
    assert.equal(traits.size + meta.size + payload.size, 2048);
    const decoded = decodeTraceLogging(meta.bytes, payload.bytes);
    const o = traceLoggingFieldsToObject(decoded.fields) as Record<
      string,
      Record<string, unknown>
    >;
    const body = o.PartB.body as string;
    assert.match(body, /^z+$/);
    // Every field after the cut one is whole: the same event with the body
    // already cut to that length, written without any cut, has the same bytes.
    const again = new FakeAdvapi32();
    again.enabledAnswer = 1;
    using exact = new EtwProcessor(again, {
      providerName: "Test.Cache",
      maxEventSize: 2048,
    });
    exact.onEmit({ ...record, body }, context);
    assert.equal(exact.stats.truncatedValues, 0);
    assert.deepEqual(
      [...again.writes[0].blobs[1].bytes, ...again.writes[0].blobs[2].bytes],
      [...meta.bytes, ...payload.bytes],
    );
    assert.deepEqual(o.PartB, {
      _typeName: "Log",
      body,
      severityNumber: 9,
      severityText: "INFO",
      name: "user.login",
    });
    assert.deepEqual(o.PartC, {
      "user.id": 4242n,
      method: "POST",
      retry: false,
    });
  });

  it("never empties the strings after a cut one (the fixed PartB strings included)", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, {
      providerName: "Test.Cache",
      maxEventSize: 4096,
    });
    // A long attribute comes first (PartC before PartB), a long body later.
    processor.onEmit({
      ...RECORD,
      eventName: "user.login",
      body: "b".repeat(3000),
      attributes: { first: "a".repeat(5000), after: "kept" },
    }, context);
    const [traits, meta, payload] = fake.writes[0].blobs;
    assert.ok(traits.size + meta.size + payload.size <= 4096);
    const o = traceLoggingFieldsToObject(
      decodeTraceLogging(meta.bytes, payload.bytes).fields,
    ) as Record<string, Record<string, unknown>>;
    const first = o.PartC.first as string;
    const body = o.PartB.body as string;
    // Both long values cut to one common length; nothing else touched.
    assert.equal(first.length, body.length);
    assert.ok(body.length > 1500 && body.length < 2048, `${body.length}`);
    assert.equal(o.PartC.after, "kept");
    assert.equal(o.PartB._typeName, "Log");
    assert.equal(o.PartB.severityText, "INFO");
    assert.equal(o.PartB.name, "user.login");
    assert.equal(processor.stats.truncatedValues, 2);
  });
});

describe("TraceLoggingWriter deferred metadata, random events", () => {
  it("finishes only when the normal mode writes the same bytes, else asks for it", () => {
    let seed = 0x5eed;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(list: readonly T[]): T =>
      list[Math.floor(rnd() * list.length)];
    const names = ["a", "b", "name\0", "ü", "x".repeat(40)];
    const strings = [
      "",
      "ascii",
      "ünï",
      "日本",
      "s".repeat(700),
      "é".repeat(400),
    ];
    let finished = 0;
    let exact = 0;
    for (const budget of [2048, 3000, 65000]) {
      const deferred = newWriter(budget);
      const normal = newWriter(budget);
      for (let i = 0; i < 400; i++) {
        const ops: ((w: TraceLoggingWriter) => void)[] = [];
        const n = Math.floor(rnd() * 8);
        for (let k = 0; k < n; k++) {
          const name = pick(names);
          const choice = Math.floor(rnd() * 6);
          const s = pick(strings);
          const x = Math.floor(rnd() * 1000);
          ops.push(
            [
              (w: TraceLoggingWriter) => w.str8(name, s, OUT_AUTO_UTF8),
              (w: TraceLoggingWriter) => w.str8(name, s, OutType.JSON),
              (w: TraceLoggingWriter) => w.int64(name, InType.INT64, x),
              (w: TraceLoggingWriter) => w.u8(name, x, OutType.BOOLEAN),
              (w: TraceLoggingWriter) => w.binary(name, new Uint8Array(x * 3)),
              (w: TraceLoggingWriter) => {
                const at = w.beginStruct(name);
                w.rfc3339("t", 1704164645678, x);
                w.setStructCount(at, 1);
              },
            ][choice],
          );
        }
        const run = (w: TraceLoggingWriter, mode: boolean) => {
          w.reset("Ev", 0, mode);
          for (const op of ops) op(w);
          return w.finish();
        };
        const truncated = normal.truncated;
        const ok = run(deferred, true);
        const expected = run(normal, false);
        if (ok) {
          finished++;
          assert.equal(expected, true);
          assert.equal(normal.truncated, truncated);
          assert.deepEqual(event(deferred), event(normal));
        } else if (deferred.needsExact) {
          exact++;
        } else {
          assert.equal(expected, false);
        }
      }
    }
    // Shapes with two sibling fields of one name (frequent with five names)
    // always ask for the normal mode, which leaves the later ones out.
    assert.ok(finished > 400, `finished ${finished}`);
    assert.ok(exact > 20, `exact ${exact}`);
  });
});
