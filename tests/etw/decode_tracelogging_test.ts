import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AnyValue,
  AttributeSanitizer,
  LogEmitContext,
  Resource,
} from "../../mod.ts";
import {
  InType,
  OutType,
  TraceLoggingWriter,
} from "../../processors/_tracelogging.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  type TraceLoggingField,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import { bytes, FakeAdvapi32 } from "./_fake_advapi32.ts";

const enc = new TextEncoder();
function sized(...parts: (number[] | string)[]): Uint8Array {
  const body: number[] = [];
  for (const p of parts) {
    body.push(...(typeof p === "string" ? [...enc.encode(p), 0] : p));
  }
  const n = body.length + 2;
  return Uint8Array.from([n & 0xff, n >> 8, ...body]);
}

describe("decodeTraceLogging", () => {
  it("decodes const-count arrays, struct arrays, UTF-16, CP1252, SID, SYSTEMTIME and field tags", () => {
    const meta = sized(
      [0],
      "E",
      "c",
      [InType.UINT16 | 0x20, 2, 0], // const count 2
      "sa",
      [InType.STRUCT | 0x40 | 0x80, 2], // variable-count array of struct{a u8, b u8}
      "a",
      [InType.UINT8],
      "b",
      [InType.UINT8],
      "w",
      [InType.UNICODESTRING],
      "cp",
      [InType.ANSISTRING],
      "sid",
      [InType.SID],
      "st",
      [InType.SYSTEMTIME],
      "t",
      [InType.INT8 | 0x80, 0x80, 0xff, 0x80, 0x80, 0x00],
    );
    const payload = Uint8Array.from([
      ...[1, 0, 2, 0],
      ...[2, 0, 10, 11, 20, 21],
      ...[0x68, 0, 0x34, 0xd8, 0x34, 0xdd, 0, 0], // "h𝄴" (surrogate pair)
      ...[0x80, 0x41, 0],
      ...[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0], // S-1-5-18
      ...[0xe8, 7, 1, 0, 2, 0, 2, 0, 3, 0, 4, 0, 5, 0, 0, 0],
      ...[0xff],
    ]);
    const event = decodeTraceLogging(meta, payload);
    const o = traceLoggingFieldsToObject(event.fields);
    assert.deepEqual(o.c, [1, 2]);
    const sa = event.fields[1].value as TraceLoggingField[][];
    assert.deepEqual(sa.map((item) => traceLoggingFieldsToObject(item)), [{
      a: 10,
      b: 11,
    }, { a: 20, b: 21 }]);
    assert.equal(o.w, "h\ud834\udd34");
    assert.equal(o.cp, "€A");
    assert.deepEqual(
      o.sid,
      Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]),
    );
    assert.deepEqual(o.st, [2024, 1, 2, 2, 3, 4, 5, 0]);
    assert.equal(o.t, -1);
    assert.equal(event.fields.at(-1)!.tags, 0x0fe00000);
  });

  it("skips the member metadata of an empty struct array", () => {
    const meta = sized(
      [0],
      "E",
      "sa",
      [InType.STRUCT | 0x40 | 0x80, 1],
      "a",
      [InType.UINT8],
      "z",
      [InType.UINT8],
    );
    const o = traceLoggingFieldsToObject(
      decodeTraceLogging(meta, Uint8Array.from([0, 0, 9])).fields,
    );
    assert.deepEqual(o, { sa: [], z: 9 });
  });

  it("rejects malformed input", () => {
    const good = sized([0], "E", "x", [InType.UINT8]);
    assert.throws(
      () =>
        decodeTraceLogging(good.subarray(0, good.length - 1), Uint8Array.of(1)),
      /size field/,
    );
    assert.throws(
      () => decodeTraceLogging(good, Uint8Array.of()),
      /1 bytes needed/,
    );
    assert.throws(
      () => decodeTraceLogging(good, Uint8Array.of(1, 2)),
      /left over/,
    );
    assert.throws(
      () => decodeTraceLogging(sized([0], "E", "x", [16]), Uint8Array.of(1)),
      /unknown InType 16/,
    );
    assert.throws(
      () =>
        decodeTraceLogging(sized([0], "E", "s", [0x98, 0]), Uint8Array.of()),
      /no members/,
    );
    assert.throws(
      () => decodeTraceLogging(bytes("05 00 00 45 46"), Uint8Array.of()),
      /unterminated/,
    );
  });
});

// ---------------------------------------------------------------------------
// Property tests: random fields through the writer and back.

type Spec =
  | { kind: "i64"; name: string; value: bigint }
  | { kind: "f64"; name: string; value: number }
  | { kind: "bool"; name: string; value: boolean }
  | { kind: "u16"; name: string; value: number }
  | { kind: "str"; name: string; value: string }
  | { kind: "utf16"; name: string; value: string }
  | { kind: "bin"; name: string; value: Uint8Array }
  | { kind: "struct"; name: string; members: Spec[] };

const nameArb = fc.string({ minLength: 1, maxLength: 12 }).filter((s) =>
  !s.includes("\0")
);
const leafArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({
    kind: fc.constant("i64" as const),
    name: nameArb,
    value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  }),
  fc.record({
    kind: fc.constant("f64" as const),
    name: nameArb,
    value: fc.double({ noNaN: true }),
  }),
  fc.record({
    kind: fc.constant("bool" as const),
    name: nameArb,
    value: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("u16" as const),
    name: nameArb,
    value: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({
    kind: fc.constant("str" as const),
    name: nameArb,
    value: fc.string({ unit: "binary", maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant("utf16" as const),
    name: nameArb,
    value: fc.string({ unit: "binary", maxLength: 20 }),
  }),
  fc.record({
    kind: fc.constant("bin" as const),
    name: nameArb,
    value: fc.uint8Array({ maxLength: 40 }),
  }),
);
const specArb: fc.Arbitrary<Spec> = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArb,
    fc.record({
      kind: fc.constant("struct" as const),
      name: nameArb,
      members: fc.array(tie("spec"), { minLength: 1, maxLength: 5 }),
    }),
  ),
})).spec;

function write(w: TraceLoggingWriter, s: Spec): void {
  switch (s.kind) {
    case "i64":
      return w.int64(s.name, InType.INT64, s.value);
    case "f64":
      return w.f64(s.name, s.value);
    case "bool":
      return w.int32(s.name, InType.BOOL32, s.value ? 1 : 0);
    case "u16":
      return w.u16(s.name, s.value, OutType.UNSIGNED);
    case "str":
      return w.str8(s.name, s.value);
    case "utf16":
      return w.string(s.name, s.value, "counted16");
    case "bin":
      return w.binary(s.name, s.value);
    case "struct": {
      const at = w.beginStruct(s.name);
      w.setStructCount(at, s.members.length);
      for (const m of s.members) write(w, m);
    }
  }
}

const wellFormed = (s: string) => new TextDecoder().decode(enc.encode(s)); // lone surrogates → U+FFFD

function check(field: TraceLoggingField, s: Spec): void {
  assert.equal(field.name, s.name);
  if (s.kind === "struct") {
    const members = field.value as TraceLoggingField[];
    assert.equal(members.length, s.members.length);
    s.members.forEach((m, i) => check(members[i], m));
    return;
  }
  const expected = s.kind === "str" ? wellFormed(s.value) : s.value;
  assert.deepEqual(field.value, expected);
}

describe("TraceLoggingWriter → decodeTraceLogging", () => {
  it("round-trips random events", () => {
    fc.assert(
      fc.property(
        nameArb,
        fc.array(specArb, { minLength: 0, maxLength: 8 }),
        (eventName, specs) => {
          const w = new TraceLoggingWriter(
            new Uint8Array(new ArrayBuffer(100000)),
            0,
            32768,
            32768,
            65536,
          );
          w.reset(eventName);
          for (const s of specs) write(w, s);
          assert.ok(w.finish());
          const event = decodeTraceLogging(
            w.bytes.subarray(0, w.metadataLength),
            w.bytes.subarray(32768, 32768 + w.payloadLength),
          );
          assert.equal(event.name, eventName);
          assert.equal(event.fields.length, specs.length);
          specs.forEach((s, i) => check(event.fields[i], s));
        },
      ),
      { numRuns: 300 },
    );
  });
});

// Random attributes through the whole log processor.
const valueArb: fc.Arbitrary<AnyValue> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) =>
    !Number.isSafeInteger(d)
  ),
  fc.boolean(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.uint8Array({ maxLength: 20 }),
);

function expectedValue(v: AnyValue): unknown {
  if (typeof v === "string") return wellFormed(v);
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === "bigint") return v;
  return v;
}

describe("EtwProcessor → decodeTraceLogging", () => {
  it("round-trips random attributes and bodies", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, { providerName: "Prop.Test" });
    const context = new LogEmitContext(new Resource({}), { name: "p" }, {
      sanitizer: new AttributeSanitizer({ attributeCountLimit: 1000 }),
    });
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10 }).filter((k) =>
            !k.includes("\0") && k !== "event_id"
          ),
          valueArb,
          {
            maxKeys: 20,
          },
        ),
        valueArb,
        fc.integer({ min: 1, max: 24 }),
        (attributes, body, severityNumber) => {
          const before = fake.writes.length;
          processor.onEmit(
            { attributes, body, severityNumber, timestamp: 1 },
            context,
          );
          assert.equal(fake.writes.length, before + 1);
          const w = fake.writes.at(-1)!;
          const event = decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes);
          const o = traceLoggingFieldsToObject(event.fields);
          const keys = Object.keys(attributes).filter((k) =>
            attributes[k] !== undefined
          );
          if (keys.length === 0) {
            assert.equal("PartC" in o, false);
          } else {
            const partC = o.PartC as Record<string, unknown>;
            for (const k of keys) {
              assert.deepEqual(partC[k], expectedValue(attributes[k]), k);
            }
          }
          const partB = o.PartB as Record<string, unknown>;
          assert.deepEqual(partB.body, expectedValue(body));
          assert.equal(partB.severityNumber, severityNumber);
        },
      ),
      { numRuns: 300 },
    );
    assert.equal(processor.stats.oversize, 0);
    assert.equal(processor.stats.encodeErrors, 0);
  });
});
