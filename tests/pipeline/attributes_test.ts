import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AttributeSanitizer,
  isIntValue,
  LoggerProvider,
  Resource,
  toLogRecordData,
} from "../../mod.ts";
import { envOf } from "./_fakes.ts";

describe("AttributeSanitizer", () => {
  it("returns valid attributes as they are, without a copy", () => {
    const s = new AttributeSanitizer();
    const attrs = {
      s: "x",
      i: 1,
      d: 1.5,
      b: true,
      n: null,
      big: 5n,
      bytes: new Uint8Array([1]),
      arr: [1, "a"],
      map: { k: [{ z: 1 }] },
    };
    assert.equal(s.attributes(attrs), attrs);
    assert.equal(s.lastDropped, 0);
    assert.equal(s.invalid + s.converted + s.truncated + s.overLimit, 0);
  });

  it("tells plain objects from others whatever the mix of shapes it has seen", () => {
    // The prototype check follows a probing read whose inline cache goes
    // from one map to many: plain and null-prototype objects stay as they
    // are at every stage, an object with another prototype is copied.
    const s = new AttributeSanitizer();
    class Point {
      x = 1;
      y = 2;
    }
    for (let round = 0; round < 3; round++) {
      for (let shape = 0; shape < 12; shape++) {
        const plain: Record<string, number> = { x: 1 };
        plain[`k${shape}`] = shape;
        assert.equal(s.attributes(plain), plain);
        const bare = Object.assign(Object.create(null), plain);
        assert.equal(s.attributes(bare), bare);
        const point = new Point();
        const copy = s.attributes(point as never);
        assert.notEqual(copy, point);
        assert.deepEqual(copy, { x: 1, y: 2 });
        const derived = Object.assign(Object.create(plain), { z: 3 });
        assert.deepEqual(s.attributes(derived), { z: 3 });
      }
    }
  });

  it("copies attributes whose symbol reads throw (a Proxy), without throwing", () => {
    const s = new AttributeSanitizer();
    const target = { a: 1, b: "x" };
    const proxy = new Proxy(target, {
      get(t, key) {
        if (typeof key === "symbol") throw new Error("hostile trap");
        return Reflect.get(t, key);
      },
    });
    const out = s.attributes(proxy);
    assert.notEqual(out, proxy);
    assert.deepEqual(out, { a: 1, b: "x" });
    assert.equal(s.lastDropped, 0);
  });

  it("drops functions and symbols and counts them", () => {
    const s = new AttributeSanitizer();
    const out = s.attributes(
      {
        ok: 1,
        f: () => 1,
        sym: Symbol("x"),
        nested: { g: () => 2, h: 3 },
      } as never,
    );
    assert.deepEqual(out, { ok: 1, nested: { h: 3 } });
    assert.equal(s.lastDropped, 2);
    assert.equal(s.invalid, 3);
  });

  it("skips undefined attributes without counting them", () => {
    const s = new AttributeSanitizer();
    assert.deepEqual(s.attributes({ a: undefined, b: 2 }), { b: 2 });
    assert.equal(s.lastDropped, 0);
    assert.equal(s.invalid, 0);
  });

  it("breaks cycles instead of recursing forever", () => {
    const s = new AttributeSanitizer();
    const cyclic: Record<string, unknown> = { name: "root" };
    cyclic.self = cyclic;
    const list: unknown[] = [1];
    list.push(list);
    const out = s.attributes({ cyclic, list } as never);
    assert.deepEqual(out, { cyclic: { name: "root" }, list: [1, null] });
    assert.equal(s.invalid, 2);
  });

  it("drops values nested deeper than 32 levels", () => {
    const s = new AttributeSanitizer();
    let deep: unknown = "bottom";
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const out = s.attributes({ deep } as never) as Record<string, unknown>;
    let depth = 0;
    let node = out.deep as Record<string, unknown> | undefined;
    while (node && typeof node === "object" && "d" in node) {
      node = node.d as Record<string, unknown>;
      depth++;
    }
    assert.ok(depth <= 32, `kept ${depth} levels`);
    assert.equal(s.invalid, 1);
  });

  it("converts bigint beyond int64 to its decimal string and counts it", () => {
    const s = new AttributeSanitizer();
    const out = s.attributes({ small: -(2n ** 63n), huge: 2n ** 64n });
    assert.deepEqual(out, {
      small: -(2n ** 63n),
      huge: "18446744073709551616",
    });
    assert.equal(s.converted, 1);
  });

  it("converts Date, Map, Set, Error, typed arrays and class instances", () => {
    const s = new AttributeSanitizer();
    class Point {
      x: number;
      y: number;
      constructor(x: number, y: number) {
        this.x = x;
        this.y = y;
      }
    }
    const out = s.attributes({
      when: new Date(0),
      map: new Map([[1, "one"]]),
      set: new Set(["a"]),
      err: Object.assign(new Error("bad"), { stack: undefined }),
      u16: new Uint16Array([0x0201]),
      point: new Point(1, 2),
      invalidDate: new Date(NaN),
    } as never) as Record<string, unknown>;
    assert.equal(out.when, "1970-01-01T00:00:00.000Z");
    assert.deepEqual(out.map, { "1": "one" });
    assert.deepEqual(out.set, ["a"]);
    assert.equal(out.err, "Error: bad");
    assert.deepEqual([...(out.u16 as Uint8Array)], [1, 2]);
    assert.deepEqual(out.point, { x: 1, y: 2 });
    assert.equal("invalidDate" in out, false);
    assert.equal(s.converted, 6);
    assert.equal(s.invalid, 1);
  });

  it("keeps the first attributes up to the count limit and counts the rest", () => {
    const s = new AttributeSanitizer({ attributeCountLimit: 2 });
    assert.deepEqual(s.attributes({ a: 1, b: 2, c: 3, d: 4 }), { a: 1, b: 2 });
    assert.equal(s.lastDropped, 2);
    assert.equal(s.overLimit, 2);
  });

  it("truncates strings, strings in arrays and bytes to the length limit", () => {
    const s = new AttributeSanitizer({ attributeValueLengthLimit: 3 });
    const out = s.attributes({
      s: "abcdef",
      arr: ["xyzw", "ok"],
      bytes: new Uint8Array([1, 2, 3, 4]),
      n: 123456,
    });
    assert.deepEqual(out, {
      s: "abc",
      arr: ["xyz", "ok"],
      bytes: new Uint8Array([1, 2, 3]),
      n: 123456,
    });
    assert.equal(s.truncated, 3);
  });

  it("never cuts a surrogate pair in half", () => {
    const s = new AttributeSanitizer({ attributeValueLengthLimit: 2 });
    assert.deepEqual(s.attributes({ e: "a\u{1F600}" }), { e: "a" });
  });

  it("rejects bad limits with a RangeError", () => {
    assert.throws(
      () => new AttributeSanitizer({ attributeCountLimit: -1 }),
      /attributeCountLimit -1/,
    );
    assert.throws(
      () => new AttributeSanitizer({ attributeValueLengthLimit: 1.5 }),
      RangeError,
    );
  });

  it("sanitizes bodies without a length limit", () => {
    const s = new AttributeSanitizer({ attributeValueLengthLimit: 1 });
    assert.equal(s.value("long body"), "long body");
    assert.deepEqual(s.value({ f: () => 1, k: "v" }), { k: "v" });
    assert.equal(s.value(() => 1), undefined);
  });
});

describe("isIntValue", () => {
  it("treats safe integers as ints and everything else as doubles", () => {
    assert.equal(isIntValue(0), true);
    assert.equal(isIntValue(-42), true);
    assert.equal(isIntValue(Number.MAX_SAFE_INTEGER), true);
    assert.equal(isIntValue(2 ** 53), false);
    assert.equal(isIntValue(0.5), false);
    assert.equal(isIntValue(NaN), false);
    assert.equal(isIntValue(Infinity), false);
  });
});

describe("LoggerProvider limits", () => {
  it("applies OTEL_LOGRECORD_ATTRIBUTE_* limits and reports them in stats", () => {
    const provider = new LoggerProvider({
      resource: new Resource({}),
      env: envOf({
        OTEL_ATTRIBUTE_COUNT_LIMIT: "10",
        OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: "1",
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "2",
      }),
    });
    const logger = provider.getLogger("t");
    const data = toLogRecordData(
      { attributes: { a: "long", b: 2 } },
      logger.context,
    );
    assert.deepEqual(data.attributes, { a: "lo" });
    assert.equal(data.droppedAttributesCount, 1);
    assert.equal(provider.stats.attributesOverLimit, 1);
    assert.equal(provider.stats.truncatedValues, 1);
  });

  it("lets explicit limits win over the environment", () => {
    const provider = new LoggerProvider({
      resource: new Resource({}),
      env: envOf({ OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: "1" }),
      limits: { attributeCountLimit: 3 },
    });
    const data = toLogRecordData(
      { attributes: { a: 1, b: 2, c: 3, d: 4 } },
      provider.getLogger("t").context,
    );
    assert.equal(Object.keys(data.attributes).length, 3);
  });
});
