// The attribute-set lookup behind every measurement: the trie with its
// last-transition shortcut, the order-independent hash index (used for sets
// seen in another key order and for sets past the cardinality limit), and
// the canonical key, checked against a reference model computed here.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AnyValue } from "../../pipeline/mod.ts";
import { type AnyPoint, points, rig } from "./_helpers.ts";

/** The canonical identity of a set, as the specification defines it. */
function refKey(attributes: Record<string, AnyValue>): string {
  return JSON.stringify(
    Object.keys(attributes).filter((k) => attributes[k] !== undefined).sort()
      .map((k) => {
        const v = attributes[k];
        return [
          k,
          typeof v,
          Object.is(v, -0) ? 0 : Number.isNaN(v) ? "NaN" : v,
        ];
      }),
  );
}

function shuffled<T>(items: T[], next: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("attribute-set lookup", () => {
  it(
    "sums 6,000 measurements over 600 sets given in random key orders as a reference model does",
    {
      timeout: 60_000,
    },
    async () => {
      const r = rig({ cardinalityLimit: 5000 });
      const c = r.provider.getMeter("m").createCounter("c");
      const next = seeded(11);
      const values: AnyValue[] = [
        "a",
        "b",
        "",
        "é",
        0,
        -0,
        1,
        1.5,
        NaN,
        true,
        false,
        "1",
      ];
      const sets: Record<string, AnyValue>[] = [];
      for (let i = 0; i < 600; i++) {
        const set: Record<string, AnyValue> = {};
        const keys = 1 + Math.floor(next() * 4);
        for (let k = 0; k < keys; k++) {
          set[`k${Math.floor(next() * 6)}`] =
            values[Math.floor(next() * values.length)];
        }
        set.id = i % 300; // half the sets repeat with other values and orders
        sets.push(set);
      }
      const expected = new Map<string, number>();
      for (let i = 0; i < 6_000; i++) {
        // Bursts of one set (the shortcut), then jumps (the maps and the hash).
        const set = sets[(i >> 1) % 600];
        const ordered = Object.fromEntries(
          shuffled(Object.entries(set), next),
        );
        c.add(1, ordered);
        const key = refKey(set);
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
      const got = new Map<string, number>();
      for (const p of points(await r.metric("c")) as AnyPoint[]) {
        got.set(refKey(p.attributes), p.value);
      }
      assert.equal(got.size, expected.size);
      assert.deepEqual(got, expected);
      assert.equal(r.provider.stats.overflowed, 0);
    },
  );

  it("past the limit, a set seen before in another key order keeps its series; only new sets overflow", async () => {
    const r = rig({ cardinalityLimit: 3 }); // two series + the overflow series
    const c = r.provider.getMeter("m").createCounter("c");
    c.add(1, { a: 1, b: "x" });
    c.add(1, { c: true });
    c.add(1, { b: "x", a: 1 }); // other order: the hash index, not overflow
    c.add(1, { a: 1, b: "y" }); // new: overflow
    c.add(1, { b: "y", a: 1 }); // still new: overflow
    c.add(1, { c: true });
    assert.deepEqual(
      points(await r.metric("c")).map((p: AnyPoint) => [p.attributes, p.value]),
      [
        [{ a: 1, b: "x" }, 2],
        [{ c: true }, 2],
        [{ "otel.metric.overflow": true }, 2],
      ],
    );
    assert.equal(r.provider.stats.overflowed, 2);
  });

  it('keeps 0 and -0 one series, NaN one series, "1" and 1 two series', async () => {
    const r = rig();
    const c = r.provider.getMeter("m").createCounter("c");
    c.add(1, { x: 0 });
    c.add(1, { x: -0 });
    c.add(1, { x: NaN });
    c.add(1, { x: NaN });
    c.add(1, { x: 1 });
    c.add(1, { x: "1" });
    const got = points(await r.metric("c")).map((
      p: AnyPoint,
    ) => [typeof p.attributes.x, String(p.attributes.x), p.value]).sort();
    assert.deepEqual(got, [
      ["number", "0", 2],
      ["number", "1", 1],
      ["number", "NaN", 2],
      ["string", "1", 1],
    ]);
  });

  it("finds series again after delta collections free idle ones (the index is rebuilt)", async () => {
    const r = rig({ temporality: "delta", cardinalityLimit: 4 });
    const c = r.provider.getMeter("m").createCounter("c");
    c.add(1, { s: "a" });
    c.add(1, { s: "b" });
    await r.collect();
    c.add(2, { s: "a" }); // b is idle: freed at this collection
    await r.collect();
    c.add(3, { s: "b" }); // a new series again (the trie and index were rebuilt)
    c.add(4, { s: "c" }); // a, b, c: the limit minus the overflow series
    c.add(5, { s: "d" }); // overflow
    c.add(6, { s: "a" }); // still a series (freed only at the next collection)
    const got = points(await r.metric("c")).map((p: AnyPoint) => [
      p.attributes.s ?? "overflow",
      p.value,
    ]).sort();
    assert.deepEqual(got, [["a", 6], ["b", 3], ["c", 4], ["overflow", 5]]);
  });

  it("hostile sets: changing getters, Proxies, inherited keys and huge keys never throw and never corrupt a series", async () => {
    const r = rig({ cardinalityLimit: 10 });
    const c = r.provider.getMeter("m").createCounter("c");
    let flips = 0;
    const changing = {
      get v() {
        return flips++ % 2 === 0 ? "even" : "odd";
      },
    };
    const proxy = new Proxy({ p: 1 }, {
      ownKeys() {
        throw new Error("ownKeys");
      },
    });
    const inherited = Object.create({ hidden: 1 });
    inherited.own = 2;
    const throwing = {
      get t() {
        throw new Error("getter");
      },
    };
    for (let i = 0; i < 4; i++) {
      c.add(1, changing as never);
      c.add(1, proxy as never);
      c.add(1, inherited);
      c.add(1, throwing as never);
      c.add(1, { ["k".repeat(10_000)]: i } as never);
    }
    c.add(1, { own: 2 });
    const all = points(await r.metric("c")) as AnyPoint[];
    const byKey = new Map(all.map((p) => [refKey(p.attributes), p.value]));
    assert.equal(
      byKey.get(refKey({ own: 2 })),
      5,
      "inherited keys are not part of a set",
    );
    const total = all.reduce((s, p) => s + p.value, 0);
    const unreadable = r.provider.stats.unreadableAttributes;
    assert.equal(
      total + unreadable,
      21,
      "every measurement is in a series or counted",
    );
    assert.ok(r.provider.stats.series <= 10);
  });
});
