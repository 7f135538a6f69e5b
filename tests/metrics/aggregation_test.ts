import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_HISTOGRAM_BOUNDARIES,
  numberPoints,
} from "../../pipeline/metrics/mod.ts";
import {
  ExponentialHistogramState,
  lowerBoundary,
  mapToIndex,
} from "../../pipeline/metrics/_exponential_buckets.ts";
import { points, rig } from "./_helpers.ts";

describe("sum aggregation", () => {
  it("adds up a counter per attribute set, cumulative over collections", async () => {
    const r = rig();
    const c = r.provider.getMeter("m").createCounter("c");
    c.add(1, { a: "x" });
    c.add(2.5, { a: "x" });
    c.add(4, { a: "y" });
    let m = await r.metric("c");
    assert.equal(m?.dataPointType, "sum");
    assert.ok(m?.dataPointType === "sum" && m.isMonotonic);
    assert.ok(
      m?.dataPointType === "sum" && m.aggregationTemporality === "cumulative",
    );
    assert.deepEqual(points(m).map((p) => [p.attributes.a, p.value]), [[
      "x",
      3.5,
    ], ["y", 4]]);
    const start = [
      points(m)[0].startTimeUnixMs,
      points(m)[0].startTimeNanosInMs,
    ];
    c.add(1, { a: "x" });
    m = await r.metric("c");
    assert.deepEqual(points(m).map((p) => [p.attributes.a, p.value]), [[
      "x",
      4.5,
    ], ["y", 4]]);
    assert.deepEqual(
      [points(m)[0].startTimeUnixMs, points(m)[0].startTimeNanosInMs],
      start,
      "cumulative start stays",
    );
    // No new measurements: cumulative still reports.
    m = await r.metric("c");
    assert.equal(points(m).length, 2);
  });

  it("reports only the interval's increments with delta, and nothing for idle series", async () => {
    const r = rig({ temporality: "delta" });
    const c = r.provider.getMeter("m").createCounter("c");
    c.add(5, { a: "x" });
    c.add(1, { a: "y" });
    let m = await r.metric("c");
    assert.ok(
      m?.dataPointType === "sum" && m.aggregationTemporality === "delta",
    );
    const first = points(m);
    assert.deepEqual(first.map((p) => p.value), [5, 1]);
    c.add(2, { a: "x" });
    m = await r.metric("c");
    const second = points(m);
    assert.deepEqual(second.map((p) => [p.attributes.a, p.value]), [["x", 2]]);
    assert.deepEqual(
      [second[0].startTimeUnixMs, second[0].startTimeNanosInMs],
      [first[0].timeUnixMs, first[0].timeNanosInMs],
      "delta starts at the previous collection",
    );
    assert.equal(await r.metric("c"), undefined, "no measurement, no point");
    c.add(3, { a: "x" });
    assert.deepEqual(points(await r.metric("c")).map((p) => p.value), [3]);
  });

  it("keeps up-down counters cumulative under the delta preference", async () => {
    const r = rig({ temporality: "delta" });
    const u = r.provider.getMeter("m").createUpDownCounter("u");
    u.add(3);
    u.add(-5);
    let m = await r.metric("u");
    assert.ok(
      m?.dataPointType === "sum" && !m.isMonotonic &&
        m.aggregationTemporality === "cumulative",
    );
    assert.equal(numberPoints(m)[0].value, -2);
    u.add(1);
    m = await r.metric("u");
    assert.equal(numberPoints(m)[0].value, -1);
  });

  it("treats {a, b} and {b, a} as one series", async () => {
    const r = rig();
    const c = r.provider.getMeter("m").createCounter("c");
    for (let i = 0; i < 3; i++) {
      c.add(1, { a: 1, b: "2" });
      c.add(1, { b: "2", a: 1 });
    }
    c.add(1, { a: "1", b: "2" }); // a string "1" is another value
    const m = await r.metric("c");
    assert.equal(points(m).length, 2);
    const byA = new Map(points(m).map((p) => [typeof p.attributes.a, p.value]));
    assert.equal(byA.get("number"), 6);
    assert.equal(byA.get("string"), 1);
  });
});

describe("last value aggregation", () => {
  it("reports a gauge's last value per series", async () => {
    const r = rig();
    const g = r.provider.getMeter("m").createGauge("g");
    g.record(1, { k: "a" });
    g.record(7, { k: "a" });
    g.record(-3, { k: "b" });
    const m = await r.metric("g");
    assert.equal(m?.dataPointType, "gauge");
    assert.deepEqual(points(m).map((p) => p.value), [7, -3]);
  });
});

describe("explicit bucket histogram", () => {
  it("counts values in the default boundaries with min, max, sum and count", async () => {
    const r = rig();
    const h = r.provider.getMeter("m").createHistogram("h");
    for (const v of [0, 3, 5, 7, 10000, 20000, 250.5]) h.record(v);
    const m = await r.metric("h");
    assert.ok(m?.dataPointType === "histogram");
    const p = m.dataPoints[0];
    assert.deepEqual(p.explicitBounds, DEFAULT_HISTOGRAM_BOUNDARIES);
    // (-inf,0] (0,5] (5,10] (10,25] ... (250,500] ... (7500,10000] (10000,inf)
    const expected = new Array(16).fill(0);
    expected[0] = 1; // 0
    expected[1] = 2; // 3, 5 (upper bound inclusive)
    expected[2] = 1; // 7
    expected[8] = 1; // 250.5 in (250, 500]
    expected[14] = 1; // 10000
    expected[15] = 1; // 20000
    assert.deepEqual(p.bucketCounts, expected);
    assert.equal(p.count, 7);
    assert.equal(p.sum, 0 + 3 + 5 + 7 + 10000 + 20000 + 250.5);
    assert.equal(p.min, 0);
    assert.equal(p.max, 20000);
  });

  it("uses advised boundaries, and resets each delta interval", async () => {
    const r = rig({ temporality: "delta" });
    const h = r.provider.getMeter("m").createHistogram("h", {
      advice: { explicitBucketBoundaries: [1, 2] },
    });
    h.record(0.5);
    h.record(1.5);
    h.record(9);
    let m = await r.metric("h");
    assert.ok(
      m?.dataPointType === "histogram" && m.aggregationTemporality === "delta",
    );
    assert.deepEqual(m.dataPoints[0].bucketCounts, [1, 1, 1]);
    h.record(2);
    m = await r.metric("h");
    assert.ok(m?.dataPointType === "histogram");
    assert.deepEqual(m.dataPoints[0].bucketCounts, [0, 1, 0]);
    assert.equal(m.dataPoints[0].min, 2);
    assert.equal(m.dataPoints[0].count, 1);
  });

  it("ignores invalid advised boundaries with a diagnostic", async () => {
    const r = rig();
    r.provider.getMeter("m").createHistogram("h", {
      advice: { explicitBucketBoundaries: [2, 1] },
    }).record(1);
    const m = await r.metric("h");
    assert.ok(m?.dataPointType === "histogram");
    assert.deepEqual(
      m.dataPoints[0].explicitBounds,
      DEFAULT_HISTOGRAM_BOUNDARIES,
    );
    assert.match(r.diagnostics[0].message, /bucket boundaries/);
  });
});

describe("exponential histogram", () => {
  it("maps powers of two to the bucket they close, at every scale", () => {
    for (let scale = -10; scale <= 20; scale++) {
      for (const e of [-20, -1, 0, 1, 3, 100]) {
        const v = 2 ** e;
        const expected = scale >= 0
          ? e * 2 ** scale - 1
          : Math.floor((e - 1) / 2 ** -scale);
        assert.equal(
          mapToIndex(v, scale),
          expected,
          `2^${e} at scale ${scale}`,
        );
      }
    }
  });

  it("maps values between their bucket's boundaries", () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 2000; n++) {
      const scale = Math.floor(rand() * 31) - 10;
      const v = Math.exp((rand() - 0.5) * 200);
      const i = mapToIndex(v, scale);
      const lo = lowerBoundary(i, scale);
      const hi = lowerBoundary(i + 1, scale);
      assert.ok(
        v > lo * (1 - 1e-12) && v <= hi * (1 + 1e-12),
        `${v} in bucket ${i} at scale ${scale}: (${lo}, ${hi}]`,
      );
    }
  });

  it("downscales from 20 to 6 for 1, 2, 4 (hand-computed)", () => {
    const s = new ExponentialHistogramState(160, 20);
    s.record(1);
    assert.equal(s.scale, 20);
    assert.equal(s.positive.offset, -1);
    s.record(2); // index 2^20 - 1: span 2^20 + 1 > 160
    s.record(4);
    // Indexes at scale 20: -1, 2^20-1, 2^21-1. Halving c times must leave
    // (2^21-1 >> c) - (-1) + 1 <= 160: c = 14, scale 6.
    assert.equal(s.scale, 6);
    const snap = s.positive.snapshot();
    assert.equal(snap.offset, -1);
    assert.equal(snap.bucketCounts.length, 129);
    assert.equal(snap.bucketCounts[0], 1); // 1 in (2^(-1/64), 1]
    assert.equal(snap.bucketCounts[64], 1); // 2: index 63
    assert.equal(snap.bucketCounts[128], 1); // 4: index 127
    assert.equal(snap.bucketCounts.reduce((a, b) => a + b), 3);
  });

  it("downscales step by step with 4 buckets: 1, 2, 4, 8 end at scale 0", () => {
    const s = new ExponentialHistogramState(4, 20);
    s.record(1);
    s.record(2);
    assert.equal(s.scale, 1); // -1 .. 2^20-1 needs 19 halvings
    assert.deepEqual(s.positive.snapshot(), {
      offset: -1,
      bucketCounts: [1, 0, 1],
    });
    s.record(4); // index 3 at scale 1: -1..3 is 5 buckets
    assert.equal(s.scale, 0);
    assert.deepEqual(s.positive.snapshot(), {
      offset: -1,
      bucketCounts: [1, 1, 1],
    });
    s.record(8);
    assert.equal(s.scale, 0);
    assert.deepEqual(s.positive.snapshot(), {
      offset: -1,
      bucketCounts: [1, 1, 1, 1],
    });
    s.record(0.75); // index -1 at scale 0: (0.5, 1]
    assert.deepEqual(s.positive.snapshot(), {
      offset: -1,
      bucketCounts: [2, 1, 1, 1],
    });
  });

  it("keeps zeros and negatives apart, on the same scale", async () => {
    const r = rig({
      views: [{
        instrumentName: "h",
        aggregation: { type: "exponentialHistogram", maxSize: 4 },
      }],
    });
    const h = r.provider.getMeter("m").createHistogram("h");
    for (const v of [0, 0, -1, -2, 1, 16]) h.record(v);
    const m = await r.metric("h");
    assert.ok(m?.dataPointType === "exponentialHistogram");
    const p = m.dataPoints[0];
    assert.equal(p.zeroCount, 2);
    assert.equal(p.count, 6);
    assert.equal(p.sum, 14);
    assert.equal(p.min, -2);
    assert.equal(p.max, 16);
    // Positive: 1 -> -1, 16 -> 2^(4*2^s)... must fit 4 buckets: scale 0 gives -1..3 (5), so scale -1: -1..1.
    assert.equal(p.scale, -1);
    assert.deepEqual(p.positive, { offset: -1, bucketCounts: [1, 0, 1] });
    assert.deepEqual(p.negative, { offset: -1, bucketCounts: [1, 1] });
  });

  it("starts over at the maximum scale after a delta collection", async () => {
    const r = rig({
      temporality: "delta",
      views: [{
        instrumentName: "h",
        aggregation: { type: "exponentialHistogram" },
      }],
    });
    const h = r.provider.getMeter("m").createHistogram("h");
    h.record(1);
    h.record(1e6);
    let m = await r.metric("h");
    assert.ok(m?.dataPointType === "exponentialHistogram");
    assert.ok(m.dataPoints[0].scale < 20);
    h.record(3);
    m = await r.metric("h");
    assert.ok(m?.dataPointType === "exponentialHistogram");
    assert.equal(m.dataPoints[0].scale, 20);
    assert.equal(m.dataPoints[0].count, 1);
    assert.deepEqual(m.dataPoints[0].positive.bucketCounts, [1]);
    assert.equal(m.dataPoints[0].positive.offset, mapToIndex(3, 20));
  });
});
