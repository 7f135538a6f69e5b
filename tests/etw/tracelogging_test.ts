import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  encodeProviderTraits,
  encodeTags,
  formatGuid,
  InType,
  OutType,
  parseGuid,
  providerIdFromName,
  sha1,
  TraceLoggingWriter,
  writeDataDescriptor,
  writeEventDescriptor,
} from "../../processors/_tracelogging.ts";
import {
  decodeTraceLogging,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import { formatRfc3339 } from "../../mod.ts";
import { bytes, hex } from "./_fake_advapi32.ts";

function newWriter(capacity = 65536, budget?: number): TraceLoggingWriter {
  const buf = new Uint8Array(new ArrayBuffer(32768 + capacity));
  return new TraceLoggingWriter(buf, 0, 32768, 32768, capacity, budget);
}
function meta(w: TraceLoggingWriter): Uint8Array {
  return w.bytes.slice(w.metadataOffset, w.metadataOffset + w.metadataLength);
}
function payload(w: TraceLoggingWriter): Uint8Array {
  return w.bytes.slice(w.payloadOffset, w.payloadOffset + w.payloadLength);
}

describe("sha1", () => {
  it("matches the FIPS 180 examples", () => {
    const enc = new TextEncoder();
    assert.equal(
      hex(sha1(enc.encode("abc"))).replaceAll(" ", ""),
      "a9993e364706816aba3e25717850c26c9cd0d89d",
    );
    assert.equal(
      hex(
        sha1(
          enc.encode(
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          ),
        ),
      ).replaceAll(" ", ""),
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    );
    assert.equal(
      hex(sha1(new Uint8Array(0))).replaceAll(" ", ""),
      "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    );
  });

  it("agrees with WebCrypto on lengths around block boundaries", async () => {
    for (const n of [1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const data = Uint8Array.from(
        { length: n },
        (_, i) => (i * 31 + n) & 0xff,
      );
      const expected = new Uint8Array(
        await crypto.subtle.digest("SHA-1", data),
      );
      assert.deepEqual(sha1(data), expected, `length ${n}`);
    }
  });
});

describe("providerIdFromName", () => {
  const table: [string, string][] = [
    ["MyProvider", "b3864c38-4273-58c5-545b-8b3608343471"],
    ["myprovider", "b3864c38-4273-58c5-545b-8b3608343471"],
    ["MYPROVIDER", "b3864c38-4273-58c5-545b-8b3608343471"],
    ["TestProvider", "97c801ee-c28b-5bb6-2ae4-11e18fe6137a"],
    ["MyCompany.MyComponent", "ce5fa4ea-ab00-5402-8b76-9f76ac858fb5"],
    ["Microsoft.PackageManager.Client", "c0cf606f-569b-5c20-27d9-88a745fa2175"],
  ];
  for (const [name, guid] of table) {
    it(`derives ${guid} from ${name}`, () => {
      assert.equal(formatGuid(providerIdFromName(name)), guid);
    });
  }

  it("hashes the worked example of the spec byte for byte", () => {
    const ns = bytes("48 2C 2D B2 C3 90 47 C8 87 F8 1A 15 BF C1 30 FB");
    const name = bytes(
      "00 4d 00 59 00 43 00 4f 00 4d 00 50 00 41 00 4e 00 59 00 2e 00 4d 00 59 00 43 00 4f 00 4d 00 50 00 4f 00 4e 00 45 00 4e 00 54",
    );
    const input = new Uint8Array(ns.length + name.length);
    input.set(ns);
    input.set(name, ns.length);
    assert.equal(
      hex(sha1(input)).replaceAll(" ", ""),
      "eaa45fce00ab02748b769f76ac858fb573f17403",
    );
    assert.equal(
      hex(providerIdFromName("MyCompany.MyComponent")),
      "ea a4 5f ce 00 ab 02 54 8b 76 9f 76 ac 85 8f b5",
    );
  });

  it("round-trips through parseGuid", () => {
    const id = providerIdFromName("MyCompany.MyComponent");
    assert.deepEqual(parseGuid("{" + formatGuid(id) + "}"), id);
    assert.throws(() => parseGuid("nope"), TypeError);
  });
});

describe("encodeProviderTraits", () => {
  it("encodes the name-only traits of the spec (24 bytes)", () => {
    assert.equal(
      hex(encodeProviderTraits("MyCompany.MyComponent")),
      "18 00 4d 79 43 6f 6d 70 61 6e 79 2e 4d 79 43 6f 6d 70 6f 6e 65 6e 74 00",
    );
  });

  it("encodes a provider group trait (43 bytes)", () => {
    const traits = encodeProviderTraits(
      "MyCompany.MyComponent",
      parseGuid("{faaf2f61-9b26-4591-9bb1-b9b8bae2d34c}"),
    );
    assert.equal(traits.length, 43);
    assert.equal(hex(traits.subarray(0, 2)), "2b 00");
    assert.equal(
      hex(traits.subarray(24)),
      "13 00 01 61 2f af fa 26 9b 91 45 9b b1 b9 b8 ba e2 d3 4c",
    );
  });
});

describe("encodeTags", () => {
  it("encodes event tags in the shortest form", () => {
    assert.equal(hex(Uint8Array.from(encodeTags(0x0fe00000))), "7f");
    assert.equal(hex(Uint8Array.from(encodeTags(0x0fedc000))), "ff 37");
    assert.equal(hex(Uint8Array.from(encodeTags(0x0fedcbaf))), "ff b7 97 2f");
    assert.equal(hex(Uint8Array.from(encodeTags(0))), "00");
  });

  it("writes field tags as 4 bytes and event tags into the metadata", () => {
    const w = newWriter();
    w.reset("E", 0x0fedc000);
    w.field("f", InType.INT32, 0, 0x0fe00000);
    assert.ok(w.finish());
    // size · ff 37 · "E" · "f" · 87 80 (OutMeta 0 + tags follow) · ff 80 80 00
    assert.equal(hex(meta(w)), "0e 00 ff 37 45 00 66 00 87 80 ff 80 80 00");
  });
});

describe("writeEventDescriptor and writeDataDescriptor", () => {
  it("encode the worked example's descriptors (§8)", () => {
    const d = new DataView(new ArrayBuffer(16));
    writeEventDescriptor(d, 0, 4, 0, 1);
    assert.equal(
      hex(new Uint8Array(d.buffer)),
      "00 00 00 0b 04 00 00 00 01 00 00 00 00 00 00 00",
    );
    const dd = new DataView(new ArrayBuffer(48));
    dd.setUint32(12, 0xffffffff); // must be overwritten: reserved bytes are initialised
    writeDataDescriptor(dd, 0, 0x0000025000001000, 0x18, 2);
    writeDataDescriptor(dd, 16, 0x0000025000002000, 0x2a, 1);
    writeDataDescriptor(dd, 32, 0x0000025000002000 + 0x2a, 0x1d, 0);
    const b = new Uint8Array(dd.buffer);
    assert.equal(
      hex(b.subarray(0, 16)),
      "00 10 00 00 50 02 00 00 18 00 00 00 02 00 00 00",
    );
    assert.equal(
      hex(b.subarray(16, 32)),
      "00 20 00 00 50 02 00 00 2a 00 00 00 01 00 00 00",
    );
    assert.equal(
      hex(b.subarray(32, 48)),
      "2a 20 00 00 50 02 00 00 1d 00 00 00 00 00 00 00",
    );
  });
});

describe("TraceLoggingWriter", () => {
  it("encodes the worked example MyEvent byte for byte (§8)", () => {
    const w = newWriter();
    w.reset("MyEvent");
    w.str8("msg", "hé", OutType.UTF8);
    w.int64("count", InType.INT64, 42);
    w.f64("ratio", 0.5);
    const pt = w.beginStruct("pt");
    w.setStructCount(pt, 2);
    w.int32("x", InType.INT32, 1);
    w.int32("y", InType.INT32, -2);
    assert.ok(w.finish());
    assert.equal(
      hex(meta(w)),
      "2a 00 00 4d 79 45 76 65 6e 74 00 6d 73 67 00 97 23 63 6f 75 6e 74 00 09 72 61 74 69 6f 00 0c " +
        "70 74 00 98 02 78 00 07 79 00 07",
    );
    assert.equal(
      hex(payload(w)),
      "03 00 68 c3 a9 2a 00 00 00 00 00 00 00 00 00 00 00 00 00 e0 3f 01 00 00 00 fe ff ff ff",
    );
    const event = decodeTraceLogging(meta(w), payload(w));
    assert.deepEqual(traceLoggingFieldsToObject(event.fields), {
      msg: "hé",
      count: 42n,
      ratio: 0.5,
      pt: { x: 1, y: -2 },
    });
  });

  it("encodes the four string encodings of hé (§5)", () => {
    const cases: [
      Parameters<TraceLoggingWriter["string"]>[2],
      number,
      string,
      string,
    ][] = [
      ["counted8", OutType.UTF8, "73 00 97 23", "03 00 68 c3 a9"],
      ["nul8", OutType.UTF8, "73 00 82 23", "68 c3 a9 00"],
      ["counted16", 0, "73 00 16", "04 00 68 00 e9 00"],
      ["nul16", 0, "73 00 01", "68 00 e9 00 00 00"],
    ];
    for (const [encoding, out, fieldMeta, data] of cases) {
      const w = newWriter();
      w.reset("E");
      w.string("s", "hé", encoding, out);
      assert.ok(w.finish());
      assert.equal(hex(meta(w).subarray(5)), fieldMeta, encoding);
      assert.equal(hex(payload(w)), data, encoding);
      assert.equal(
        traceLoggingFieldsToObject(
          decodeTraceLogging(meta(w), payload(w)).fields,
        ).s,
        "hé",
        encoding,
      );
    }
  });

  it("picks OutType UTF8 only for non-ASCII counted strings (auto)", () => {
    const w = newWriter();
    w.reset("E");
    w.str8("a", "plain");
    w.str8("b", "žluťoučký 🐴");
    assert.ok(w.finish());
    const event = decodeTraceLogging(meta(w), payload(w));
    assert.equal(event.fields[0].outType, 0);
    assert.equal(event.fields[1].outType, OutType.UTF8);
    assert.equal(event.fields[1].value, "žluťoučký 🐴");
  });

  it("encodes lone surrogates as U+FFFD", () => {
    const w = newWriter();
    w.reset("E");
    w.str8("s", "a\ud800b\udc00");
    assert.ok(w.finish());
    assert.equal(hex(payload(w)), "08 00 61 ef bf bd 62 ef bf bd");
    assert.equal(
      decodeTraceLogging(meta(w), payload(w)).fields[0].value,
      "a\ufffdb\ufffd",
    );
  });

  it("encodes a variable-count INT32 array (§5)", () => {
    const w = newWriter();
    w.reset("E");
    w.int32Array("a", [1, 2]);
    assert.ok(w.finish());
    assert.equal(hex(meta(w).subarray(-2)), "00 47");
    assert.equal(hex(payload(w)), "02 00 01 00 00 00 02 00 00 00");
    assert.deepEqual(decodeTraceLogging(meta(w), payload(w)).fields[0].value, [
      1,
      2,
    ]);
  });

  it("round-trips every scalar kind", () => {
    const w = newWriter();
    w.reset("Kinds");
    w.u8("i8", -5, 0, true);
    w.u8("u8", 250);
    w.u16("i16", -300, 0, true);
    w.u16("u16", 65000);
    w.int32("i32", InType.INT32, -70000);
    w.int32("u32", InType.UINT32, 0xfffffff0);
    w.int32("b32", InType.BOOL32, 1);
    w.int32("h32", InType.HEXINT32, 0xabcdef);
    w.int64("i64", InType.INT64, -(2n ** 63n));
    w.int64("i64n", InType.INT64, -123456789012);
    w.int64("u64", InType.UINT64, 2n ** 64n - 1n);
    w.int64("h64", InType.HEXINT64, 0x1234n);
    w.int64("ft", InType.FILETIME, 133000000000000000n);
    w.f32("f32", 1.5);
    w.f64("f64", -Math.PI);
    w.guid("g", providerIdFromName("MyProvider"));
    w.binary("bin", Uint8Array.from([0, 1, 2, 255]));
    w.binary("cbin", Uint8Array.from([9]), InType.COUNTEDBINARY);
    w.str8("empty", "");
    assert.ok(w.finish());
    const o = traceLoggingFieldsToObject(
      decodeTraceLogging(meta(w), payload(w)).fields,
    );
    assert.deepEqual(o, {
      i8: -5,
      u8: 250,
      i16: -300,
      u16: 65000,
      i32: -70000,
      u32: 0xfffffff0,
      b32: true,
      h32: 0xabcdef,
      i64: -(2n ** 63n),
      i64n: -123456789012n,
      u64: 2n ** 64n - 1n,
      h64: 0x1234n,
      ft: 133000000000000000n,
      f32: 1.5,
      f64: -Math.PI,
      g: "b3864c38-4273-58c5-545b-8b3608343471",
      bin: Uint8Array.from([0, 1, 2, 255]),
      cbin: Uint8Array.from([9]),
      empty: "",
    });
  });

  it("nests structs", () => {
    const w = newWriter();
    w.reset("Nest");
    const outer = w.beginStruct("outer");
    w.setStructCount(outer, 2);
    const inner = w.beginStruct("inner");
    w.setStructCount(inner, 2);
    w.str8("a", "x");
    const deepest = w.beginStruct("deepest");
    w.setStructCount(deepest, 1);
    w.u8("z", 7);
    w.u8("after", 1);
    w.u8("top", 2);
    assert.ok(w.finish());
    const o = traceLoggingFieldsToObject(
      decodeTraceLogging(meta(w), payload(w)).fields,
    );
    assert.deepEqual(o, {
      outer: { inner: { a: "x", deepest: { z: 7 } }, after: 1 },
      top: 2,
    });
  });

  it("replaces NULs in names and keeps non-ASCII names", () => {
    const w = newWriter();
    w.reset("Évt");
    w.u8("a\0b", 1);
    w.u8("ключ", 2);
    assert.ok(w.finish());
    const event = decodeTraceLogging(meta(w), payload(w));
    assert.equal(event.name, "Évt");
    assert.deepEqual(event.fields.map((f) => f.name), ["a?b", "ключ"]);
  });

  it("cuts a too-long string at a character boundary to the u16 limit", () => {
    const w = newWriter(200000, 200000);
    w.reset("E");
    w.str8("s", "é".repeat(40000)); // 80000 bytes
    w.str8("t", "x".repeat(70000));
    assert.ok(w.finish());
    const event = decodeTraceLogging(meta(w), payload(w));
    const s = event.fields[0].value as string;
    assert.equal(s, "é".repeat(32767)); // 65534 bytes: the last whole character below 65535
    assert.equal((event.fields[1].value as string).length, 65535);
    assert.equal(w.truncated, 2);
  });

  it("cuts strings to the event budget and leaves room for later fields", () => {
    const w = newWriter(65536, 4096);
    const write = () => {
      w.reset("E");
      w.str8("big", "y".repeat(10000));
      w.str8("small", "fits");
      w.int64("after", InType.INT64, 1);
      return w.finish();
    };
    assert.equal(write(), false); // over budget: a cut is planned
    assert.equal(w.truncated, 0);
    assert.equal(w.cutNext(), true);
    assert.ok(write());
    assert.equal(w.metadataLength + w.payloadLength, 4096);
    assert.equal(w.truncated, 1);
    const o = traceLoggingFieldsToObject(
      decodeTraceLogging(meta(w), payload(w)).fields,
    );
    assert.equal(o.after, 1n);
    assert.equal(o.small, "fits");
    // 24 bytes of metadata, 16 of payload besides the cut value.
    assert.equal((o.big as string).length, 4096 - 24 - 16);
    // The plan applies to one event only.
    assert.equal(write(), false);
  });

  it("reports overflow when fixed-size fields do not fit", () => {
    const w = newWriter(65536, 64);
    w.reset("E");
    for (let i = 0; i < 20; i++) w.int64("field" + i, InType.INT64, i);
    assert.equal(w.finish(), false);
    assert.equal(w.overflow, true);
    w.reset("E");
    w.int64("ok", InType.INT64, 1);
    assert.equal(w.finish(), true);
  });

  it("writes RFC 3339 times exactly like formatRfc3339", () => {
    const w = newWriter();
    const check = (ms: number, nanos: number) => {
      w.reset("E");
      w.rfc3339("t", ms, nanos);
      assert.ok(w.finish());
      const field = decodeTraceLogging(meta(w), payload(w)).fields[0];
      assert.equal(field.inType, InType.COUNTEDANSISTRING);
      assert.equal(field.value, formatRfc3339(ms, nanos), `${ms} ${nanos}`);
    };
    for (
      const [ms, nanos] of [
        [0, 0],
        [0, 1],
        [0, 999],
        [0, 1000],
        [1, 0],
        [1704164645678, 0],
        [1704164645000, 0],
        [1704164645000, 1000],
        [1704164645123, 456789],
        [18446744073709, 551615],
      ]
    ) {
      check(ms, nanos);
    }
    check(1704164645678, 0); // same second again: the cached prefix
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 18446744073708 }),
        fc.integer({ min: 0, max: 999999 }),
        (ms, sub) => {
          check(ms, sub);
        },
      ),
      { numRuns: 500 },
    );
  });
});
