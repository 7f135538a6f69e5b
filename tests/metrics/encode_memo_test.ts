// The protobuf encoder's memos: a series' attributes are encoded once and
// copied afterwards, and the start and end times of consecutive points are
// converted once. Both must be invisible on the wire: every collection
// encodes to the bytes a memo-less copy of it encodes to, and protobufjs
// (an independent decoder, with the official metrics.proto) reads every
// field back. Hand-made and hostile points (copies and Proxies of a series'
// attributes, arrays, huge sets, odd times and values) must never be
// mistaken for a memoized series.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type Attributes,
  Resource,
  withActiveSpan,
} from "../../pipeline/mod.ts";
import {
  ManualMetricReader,
  MeterProvider,
  type MetricData,
  type NumberDataPoint,
  type ResourceMetrics,
} from "../../pipeline/metrics/mod.ts";
import {
  ATTRIBUTES_MEMO,
  AttributesMemo,
} from "../../pipeline/metrics/_attributes_memo.ts";
import { writeMetricsRequest } from "../../exporters/_otlp_metrics_proto.ts";
import { ProtoBuffer } from "../../exporters/_proto_writer.ts";
import { OtlpHttpMetricExporter } from "../../exporters/otlp/mod.ts";
import { decodeMetrics, plainAttributes } from "../otlp/_decoder.ts";
import protobuf from "protobufjs";

const SPAN = {
  spanContext: () => ({
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
  }),
};

function encode(metrics: ResourceMetrics, size = 64): Uint8Array {
  const out = new ProtoBuffer(size);
  const end = writeMetricsRequest(metrics, out, 0);
  return out.bytes.slice(0, end);
}

/** A deep copy in which no attributes object is a series' own (no memo). */
function memoless(metrics: ResourceMetrics): ResourceMetrics {
  return {
    resource: metrics.resource,
    scopeMetrics: metrics.scopeMetrics.map((sm) => ({
      scope: sm.scope,
      metrics: sm.metrics.map((m) => ({
        ...m,
        dataPoints: (m.dataPoints as readonly { attributes: Attributes }[])
          .map((p) => ({ ...p, attributes: { ...p.attributes } })),
      })) as unknown as MetricData[],
    })),
  };
}

function memoOf(attributes: Attributes): AttributesMemo | undefined {
  const memo = (attributes as { [ATTRIBUTES_MEMO]?: unknown })[
    ATTRIBUTES_MEMO
  ];
  return memo instanceof AttributesMemo ? memo : undefined;
}

const RESOURCE = new Resource({ "service.name": "memo" });

/** A provider on RESOURCE read by hand, with no environment. */
function manualProvider(): {
  reader: ManualMetricReader;
  provider: MeterProvider;
} {
  const reader = new ManualMetricReader();
  const provider = new MeterProvider({
    env: () => undefined,
    resource: RESOURCE,
    readers: [reader],
  });
  return { reader, provider };
}

/** One gauge "g" of `points` in scope "t", built by hand. */
function gauge(
  points: NumberDataPoint[],
  valueType: "double" | "int",
): ResourceMetrics {
  return {
    resource: RESOURCE,
    scopeMetrics: [{
      scope: { name: "t" },
      metrics: [{
        descriptor: {
          name: "g",
          description: "",
          unit: "",
          type: "gauge",
          valueType,
        },
        dataPointType: "gauge",
        dataPoints: points,
      }],
    }],
  };
}

function richCollection(): {
  reader: ManualMetricReader;
  provider: MeterProvider;
} {
  const reader = new ManualMetricReader();
  const provider = new MeterProvider({
    env: () => undefined,
    resource: RESOURCE,
    readers: [reader],
    views: [{
      instrumentName: "exp",
      aggregation: { type: "exponentialHistogram", maxSize: 8 },
    }],
  });
  const meter = provider.getMeter("lib", "1.0");
  const counter = meter.createCounter("requests", { valueType: "int" });
  const gauge = meter.createGauge("temperature");
  const updown = meter.createUpDownCounter("inflight");
  const histogram = meter.createHistogram("latency", {
    advice: { explicitBucketBoundaries: [0.1, 1, 10] },
  });
  const exp = meter.createHistogram("exp");
  for (let i = 0; i < 300; i++) {
    const attributes: Record<string, Attributes[string]> = {
      route: "/r/" + (i % 17),
      code: 200 + (i % 5),
      ok: (i & 1) === 0,
      ratio: i / 7,
      text: i % 3 === 0 ? "é—日本" + i : "ascii" + i,
    };
    if (i % 50 === 0) attributes.tags = ["a", String(i), i];
    if (i % 60 === 1) attributes.long = "x".repeat(600 + i);
    counter.add(i, attributes);
    gauge.record(i * 0.5 - 20, attributes);
    updown.add(-i, attributes);
    withActiveSpan(SPAN, () => histogram.record(i / 10, attributes));
    exp.record(i - 150, attributes);
  }
  counter.add(1); // the empty set
  return { reader, provider };
}

describe("the series attributes memo", () => {
  it("encodes the same bytes before, while and after the memos are filled, and as a memo-less copy", async () => {
    const { reader } = richCollection();
    const first = (await reader.collect()).resourceMetrics;
    const a = encode(first); // fills the memos
    const b = encode(first); // copies them
    const copy = encode(memoless(first));
    assert.deepEqual(b, a);
    assert.deepEqual(copy, a);
    // A later collection (new point objects, same series) reuses them.
    const second = (await reader.collect()).resourceMetrics;
    assert.deepEqual(encode(second), encode(memoless(second)));

    // protobufjs reads every point's attributes back, field by field.
    const decoded = decodeMetrics(b);
    const byName = new Map<string, { attrs: unknown[] }>();
    for (const m of decoded.resourceMetrics[0].scopeMetrics[0].metrics) {
      const data = m.sum ?? m.gauge ?? m.histogram ?? m.exponentialHistogram;
      byName.set(m.name, {
        attrs: data.dataPoints.map((p: { attributes?: unknown[] }) =>
          plainAttributes(p.attributes as never)
        ),
      });
    }
    for (const metric of first.scopeMetrics[0].metrics) {
      const expected = (metric.dataPoints as readonly {
        attributes: Attributes;
      }[])
        .map((p) => ({ ...p.attributes }));
      assert.deepEqual(
        byName.get(metric.descriptor.name)?.attrs,
        expected,
        metric.descriptor.name,
      );
    }
  });

  it("keeps each series' start time apart: delta intervals, and points that share attributes but not their start", async () => {
    const reader = new ManualMetricReader({ temporalityPreference: "delta" });
    const provider = new MeterProvider({
      env: () => undefined,
      resource: RESOURCE,
      readers: [reader],
    });
    const meter = provider.getMeter("m");
    const counter = meter.createCounter("c");
    const histogram = meter.createHistogram("h");
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20; i++) {
        if ((i + round) % 3 === 0) continue; // some series skip a round
        counter.add(i, { id: i % 10, round: round % 2 });
        histogram.record(i, { id: i % 10 });
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
      const metrics = (await reader.collect()).resourceMetrics;
      assert.deepEqual(
        encode(metrics),
        encode(memoless(metrics)),
        `round ${round}`,
      );
      assert.deepEqual(encode(metrics), encode(memoless(metrics)));
    }
    // One series' attributes with starts that differ, interleaved with
    // another series' (the memo keeps one start per attributes object).
    counter.add(1, { id: "a" });
    counter.add(1, { id: "b" });
    const metrics = (await reader.collect()).resourceMetrics;
    const metric = metrics.scopeMetrics[0].metrics.find((m) =>
      m.descriptor.name === "c"
    )!;
    const [a, b] = metric.dataPoints as NumberDataPoint[];
    const starts: [number, number][] = [
      [a.startTimeUnixMs, a.startTimeNanosInMs],
      [a.startTimeUnixMs, a.startTimeNanosInMs + 1],
      [a.startTimeUnixMs + 1, a.startTimeNanosInMs + 1],
      [0, 0],
      [1.5, 0],
    ];
    const points: NumberDataPoint[] = [];
    for (let i = 0; i < 30; i++) {
      const [ms, ns] = starts[(i * 7) % starts.length];
      const own = i % 4 === 3 ? b : a;
      points.push({ ...own, startTimeUnixMs: ms, startTimeNanosInMs: ns });
      if (i % 5 === 0) points.push(b);
    }
    const hand: ResourceMetrics = {
      resource: RESOURCE,
      scopeMetrics: [{
        scope: metrics.scopeMetrics[0].scope,
        metrics: [{ ...metric, dataPoints: points } as MetricData],
      }],
    };
    const bytes = encode(hand);
    assert.deepEqual(encode(hand), bytes);
    assert.deepEqual(encode(memoless(hand)), bytes);
    const decoded = decodeMetrics(bytes).resourceMetrics[0].scopeMetrics[0]
      .metrics[0].sum.dataPoints;
    decoded.forEach((p: { startTimeUnixNano?: string }, i: number) => {
      const q = points[i];
      const exact = Number.isInteger(q.startTimeUnixMs) &&
        q.startTimeUnixMs > 0;
      assert.equal(
        p.startTimeUnixNano,
        exact
          ? (BigInt(q.startTimeUnixMs) * 1_000_000n +
            BigInt(q.startTimeNanosInMs)).toString()
          : undefined,
        `point ${i}`,
      );
    });
  });

  it("memoizes primitive sets up to 512 bytes, never arrays or longer sets", async () => {
    const { reader } = richCollection();
    const metrics = (await reader.collect()).resourceMetrics;
    encode(metrics);
    let filled = 0;
    let arrays = 0;
    let long = 0;
    const requests = metrics.scopeMetrics[0].metrics.find((m) =>
      m.descriptor.name === "requests"
    )!;
    for (const p of requests.dataPoints) {
      if (Object.keys(p.attributes).length === 0) continue;
      const memo = memoOf(p.attributes);
      assert.ok(memo !== undefined, "every series has a memo");
      assert.equal(memo.owner, p.attributes);
      if (Array.isArray(p.attributes.tags)) {
        arrays++;
        assert.equal(memo.tag, -1, "a set with an array is never memoized");
      } else if (typeof p.attributes.long === "string") {
        long++;
        assert.equal(memo.tag, -1, "a set over 512 bytes is never memoized");
      } else {
        filled++;
        assert.notEqual(memo.tag, -1);
        assert.ok(memo.size > 0 && memo.size <= 512);
        assert.equal(memo.words.length, (memo.size + 3) >> 2);
      }
    }
    assert.ok(
      filled > 200 && arrays === 6 && long === 5,
      `${filled} ${arrays} ${long}`,
    );
    // The empty set is memoized too (no bytes).
    const empty = requests.dataPoints.find((p) =>
      Object.keys(p.attributes).length === 0
    )!;
    assert.equal(memoOf(empty.attributes)?.size, 0);
    assert.notEqual(memoOf(empty.attributes)?.tag, -1);
  });

  it("keeps an array value's later changes on the wire (arrays are never memoized)", async () => {
    const { reader, provider } = manualProvider();
    provider.getMeter("m").createCounter("c").add(1, { tags: ["a"], k: 1 });
    const metrics = (await reader.collect()).resourceMetrics;
    const point = metrics.scopeMetrics[0].metrics[0]
      .dataPoints[0] as NumberDataPoint;
    encode(metrics);
    const tags = point.attributes.tags as unknown[];
    if (Object.isFrozen(tags)) return; // nothing a caller could change
    tags.push("b");
    const decoded = decodeMetrics(encode(metrics));
    const p = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .dataPoints[0];
    assert.deepEqual(plainAttributes(p.attributes).tags, ["a", "b"]);
  });

  it("is invisible: not an own key, not copied by spreads, equal to a plain object", async () => {
    const { reader, provider } = manualProvider();
    provider.getMeter("m").createCounter("c").add(1, { b: 2, a: "x" });
    const metrics = (await reader.collect()).resourceMetrics;
    encode(metrics);
    const attributes = metrics.scopeMetrics[0].metrics[0].dataPoints[0]
      .attributes;
    assert.ok(memoOf(attributes) !== undefined);
    assert.ok(Object.isFrozen(attributes));
    assert.deepEqual(Object.keys(attributes), ["b", "a"]);
    const forIn: string[] = [];
    for (const key in attributes) forIn.push(key);
    assert.deepEqual(forIn, ["b", "a"]);
    assert.equal(JSON.stringify(attributes), '{"b":2,"a":"x"}');
    assert.deepStrictEqual(attributes, { b: 2, a: "x" });
    const spread = { ...attributes };
    assert.equal(memoOf(spread), undefined);
    assert.equal(memoOf(Object.assign({}, attributes)), undefined);
    assert.equal(memoOf(structuredClone(attributes)), undefined);
  });

  it("never takes a copy, a Proxy or a look-alike for the series it resembles", async () => {
    const { reader, provider } = manualProvider();
    provider.getMeter("m").createCounter("c").add(5, { route: "/a", n: 1 });
    const metrics = (await reader.collect()).resourceMetrics;
    encode(metrics); // fills the memo of { route: "/a", n: 1 }
    const metric = metrics.scopeMetrics[0].metrics[0];
    const point = metric.dataPoints[0] as NumberDataPoint;
    const own = point.attributes;
    const memo = memoOf(own)!;
    assert.notEqual(memo.tag, -1);
    const stolen = new AttributesMemo({});
    stolen.tag = memo.tag;
    stolen.words = memo.words;
    stolen.size = memo.size;
    // A Proxy of the frozen object cannot report other values (the
    // language's invariants); it forwards the memo, which names the target.
    const honest = new Proxy(own, {});
    const nonFrozen = new Proxy({ route: "/proxy", n: 1 }, {
      get: (target, key) =>
        key === ATTRIBUTES_MEMO ? memo : Reflect.get(target, key),
    });
    const lookAlike = Object.defineProperty(
      { route: "/b", n: 2 },
      ATTRIBUTES_MEMO,
      {
        value: memo, // another object's memo
      },
    );
    const forged = Object.defineProperty(
      { route: "/c", n: 3 },
      ATTRIBUTES_MEMO,
      {
        value: stolen, // a memo that names another owner
      },
    );
    const plainMemo = Object.defineProperty(
      { route: "/d", n: 4 },
      ATTRIBUTES_MEMO,
      {
        value: {
          owner: null,
          tag: memo.tag,
          words: memo.words,
          size: memo.size,
        }, // not a memo
      },
    );
    const hand: ResourceMetrics = {
      resource: RESOURCE,
      scopeMetrics: [{
        scope: metrics.scopeMetrics[0].scope,
        metrics: [{
          ...metric,
          dataPoints: [honest, nonFrozen, lookAlike, forged, plainMemo, own]
            .map((a) => ({
              ...point,
              attributes: a,
            })),
        } as MetricData],
      }],
    };
    const decoded = decodeMetrics(encode(hand));
    const routes = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .dataPoints.map((p: { attributes: unknown[] }) =>
        plainAttributes(p.attributes as never)
      );
    assert.deepEqual(routes, [
      { route: "/a", n: 1 },
      { route: "/proxy", n: 1 },
      { route: "/b", n: 2 },
      { route: "/c", n: 3 },
      { route: "/d", n: 4 },
      { route: "/a", n: 1 },
    ]);
  });

  it("writes the right field tags when one series' attributes serve several point kinds", async () => {
    const { reader, provider } = manualProvider();
    const meter = provider.getMeter("m");
    meter.createCounter("c").add(1, { k: "v" });
    meter.createHistogram("h").record(1, { k: "v" });
    const metrics = (await reader.collect()).resourceMetrics;
    const [c, h] = metrics.scopeMetrics[0].metrics;
    const attributes = c.dataPoints[0].attributes;
    // The counter's attributes, on a histogram point and back, repeatedly.
    const mixed: MetricData[] = [];
    for (let i = 0; i < 3; i++) {
      mixed.push(c);
      mixed.push({
        ...h,
        dataPoints: [{ ...h.dataPoints[0], attributes }],
      } as MetricData);
    }
    const hand: ResourceMetrics = {
      resource: RESOURCE,
      scopeMetrics: [{ scope: metrics.scopeMetrics[0].scope, metrics: mixed }],
    };
    assert.deepEqual(encode(hand), encode(memoless(hand)));
    const decoded = decodeMetrics(encode(hand));
    for (const m of decoded.resourceMetrics[0].scopeMetrics[0].metrics) {
      const p = (m.sum ?? m.histogram).dataPoints[0];
      assert.deepEqual(plainAttributes(p.attributes), { k: "v" });
    }
  });

  it("fails an export of a Proxy whose trap throws, without throwing", async () => {
    const exporter = new OtlpHttpMetricExporter({
      endpoint: "http://127.0.0.1:9/v1/metrics",
      env: () => undefined,
    });
    const { reader, provider } = manualProvider();
    provider.getMeter("m").createCounter("c").add(1, { k: "v" });
    const metrics = (await reader.collect()).resourceMetrics;
    const metric = metrics.scopeMetrics[0].metrics[0];
    const hostile = new Proxy({}, {
      get: () => {
        throw new Error("trap");
      },
      ownKeys: () => {
        throw new Error("trap");
      },
    });
    const result = await exporter.export({
      resource: RESOURCE,
      scopeMetrics: [{
        scope: metrics.scopeMetrics[0].scope,
        metrics: [{
          ...metric,
          dataPoints: [{ ...metric.dataPoints[0], attributes: hostile }],
        } as MetricData],
      }],
    }, new AbortController().signal);
    assert.equal(result.code, "failure");
    await exporter.shutdown();
  });

  it("holds at the cardinality limit: 1,999 series and the overflow series, memoized, overflow counted", async () => {
    const { reader, provider } = manualProvider();
    const counter = provider.getMeter("m").createCounter("c");
    for (let i = 0; i < 3000; i++) counter.add(1, { id: i, q: "q" + (i % 7) });
    assert.equal(provider.stats.overflowed, 1001);
    const metrics = (await reader.collect()).resourceMetrics;
    const a = encode(metrics);
    assert.deepEqual(encode(metrics), a);
    assert.deepEqual(encode(memoless(metrics)), a);
    const points = decodeMetrics(a).resourceMetrics[0].scopeMetrics[0]
      .metrics[0].sum.dataPoints;
    assert.equal(points.length, 2000);
    const overflow = points.filter((p: { attributes: unknown[] }) =>
      plainAttributes(p.attributes as never)["otel.metric.overflow"] === true
    );
    assert.equal(overflow.length, 1);
    assert.equal(overflow[0].asDouble, 1001);
  });

  it("stores series from hostile inputs as plain copies, and drops what it cannot read, counting it", async () => {
    const { reader, provider } = manualProvider();
    const counter = provider.getMeter("m").createCounter("c");
    const cycle: Record<string, unknown> = { k: "cycle" };
    cycle.self = cycle;
    const throwing = {
      get k(): string {
        throw new Error("getter");
      },
    };
    const proxy = new Proxy({ k: "proxied" }, {});
    const revocable = Proxy.revocable({ k: "revoked" }, {});
    revocable.revoke();
    counter.add(1, proxy as Attributes);
    counter.add(1, cycle as Attributes);
    counter.add(1, throwing as unknown as Attributes);
    counter.add(1, revocable.proxy as Attributes);
    counter.add(NaN, { k: "nan" });
    counter.add(Infinity, { k: "inf" });
    const stats = provider.stats;
    assert.equal(stats.nonFiniteValues, 2);
    assert.ok(stats.unreadableAttributes >= 1, `${stats.unreadableAttributes}`);
    const metrics = (await reader.collect()).resourceMetrics;
    const bytes = encode(metrics);
    assert.deepEqual(encode(metrics), bytes);
    assert.deepEqual(encode(memoless(metrics)), bytes);
    const points = decodeMetrics(bytes).resourceMetrics[0].scopeMetrics[0]
      .metrics[0].sum.dataPoints;
    const keys = points.map((p: { attributes: unknown[] }) =>
      plainAttributes(p.attributes as never).k
    );
    assert.ok(keys.includes("proxied"), JSON.stringify(keys));
    assert.ok(!keys.includes("nan") && !keys.includes("inf"));
    for (const p of metrics.scopeMetrics[0].metrics[0].dataPoints) {
      assert.ok(Object.isFrozen(p.attributes));
    }
  });
});

/**
 * The start (2) and end (3) time fields of each gauge point, as written on
 * the wire (a field present with 0 included, which protobufjs' objects do
 * not show), read with protobufjs' Reader.
 */
function gaugePointTimes(
  bytes: Uint8Array,
): [string | undefined, string | undefined][] {
  // The length-delimited field `field` of each message in `messages`.
  const sub = (messages: Uint8Array[], field: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (const m of messages) {
      const r = protobuf.Reader.create(m);
      while (r.pos < r.len) {
        const tag = r.uint32();
        if (tag >>> 3 === field && (tag & 7) === 2) out.push(r.bytes());
        else r.skipType(tag & 7);
      }
    }
    return out;
  };
  // Request.resource_metrics(1) > scope_metrics(2) > metrics(2) > gauge(5)
  // > data_points(1).
  const points = sub(sub(sub(sub(sub([bytes], 1), 2), 2), 5), 1);
  return points.map((p) => {
    const r = protobuf.Reader.create(p);
    let start: string | undefined;
    let end: string | undefined;
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 0x11) start = r.fixed64().toString();
      else if (tag === 0x19) end = r.fixed64().toString();
      else r.skipType(tag & 7);
    }
    return [start, end];
  });
}

/** The fixed64 time written from (ms, nanos): exact, or 0. */
function expectedNano(ms: unknown, nanos: unknown): string {
  if (
    typeof ms !== "number" || typeof nanos !== "number" ||
    !Number.isInteger(ms) || !Number.isInteger(nanos) || ms < 0 ||
    nanos < 0 || nanos >= 1e6
  ) return "0";
  const t = BigInt(ms) * 1_000_000n + BigInt(nanos);
  return t < 2n ** 64n ? t.toString() : "0";
}

describe("the time memo", () => {
  it("writes every point's own start and end time, in any order and for odd values", () => {
    const odd: unknown[] = [
      1_700_000_000_000,
      1_700_000_000_001,
      0,
      1.5,
      -1,
      NaN,
      Infinity,
      -Infinity,
      Number.MAX_SAFE_INTEGER,
      18446744073709, // the last ms below 2^64 ns
      "1700000000000",
      { valueOf: () => 5 },
      null,
      undefined,
    ];
    const nanos: unknown[] = [0, 1, 999_999, 1e6, -1, 0.5, NaN, "3"];
    const points: NumberDataPoint[] = [];
    const expected: [string | undefined, string][] = [];
    let seed = 7;
    const pick = <T>(a: readonly T[]): T => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return a[seed % a.length];
    };
    const shared = { valueOf: () => 1 };
    for (let i = 0; i < 400; i++) {
      // Runs of equal times, then changes, as the memo sees them.
      const same = i % 5 !== 0 && points.length > 0;
      const prev = points[points.length - 1];
      const sMs = same ? prev.startTimeUnixMs : pick(odd);
      const sNs = same ? prev.startTimeNanosInMs : pick(nanos);
      const ms = i % 3 === 0
        ? pick(odd)
        : i % 7 === 0
        ? shared
        : 1_700_000_000_123;
      const ns = i % 3 === 0 ? pick(nanos) : 456_789;
      points.push({
        attributes: {},
        startTimeUnixMs: sMs as number,
        startTimeNanosInMs: sNs as number,
        timeUnixMs: ms as number,
        timeNanosInMs: ns as number,
        value: i,
        exemplars: [],
      });
      // An unset (0) or inexact start is left out; an inexact end is 0.
      const start = expectedNano(sMs, sNs);
      expected.push([start === "0" ? undefined : start, expectedNano(ms, ns)]);
    }
    // The same ms with other nanos, and the same nanos with other ms.
    const A = 1_700_000_000_555;
    for (
      const [sMs, sNs, ms, ns] of [
        [A, 5, A, 5],
        [A, 0, A, 0],
        [A, 5, A, 5],
        [A, 999_999, A, 999_999],
        [A + 1, 999_999, A + 1, 999_999],
        [A, 999_999, A, 999_999],
        [0, 5, 0, 5],
        [0, 0, 0, 0],
        [A, 0, A, 0],
      ]
    ) {
      points.push({
        attributes: {},
        startTimeUnixMs: sMs,
        startTimeNanosInMs: sNs,
        timeUnixMs: ms,
        timeNanosInMs: ns,
        value: 1,
        exemplars: [],
      });
      const start = expectedNano(sMs, sNs);
      expected.push([start === "0" ? undefined : start, expectedNano(ms, ns)]);
    }
    const metrics = gauge(points, "double");
    const bytes = encode(metrics);
    const times = gaugePointTimes(bytes);
    assert.equal(times.length, 409);
    times.forEach((t, i) => assert.deepEqual(t, expected[i], `point ${i}`));
    // protobufjs' own decode agrees on every non-zero time.
    const decoded = decodeMetrics(bytes).resourceMetrics[0].scopeMetrics[0]
      .metrics[0].gauge.dataPoints;
    decoded.forEach(
      (p: { startTimeUnixNano?: string; timeUnixNano?: string }, i: number) => {
        assert.equal(p.startTimeUnixNano, expected[i][0]);
        assert.equal(p.timeUnixNano ?? "0", expected[i][1]);
      },
    );
    assert.ok(
      expected.filter((e) => e[0] === undefined).length > 50 &&
        expected.filter((e) => e[1] === "0").length > 20,
      "odd times were tried",
    );
    // Each point alone (a cold memo) encodes as it did inside the run.
    for (let i = 0; i < 400; i += 37) {
      const one = {
        ...metrics,
        scopeMetrics: [{
          ...metrics.scopeMetrics[0],
          metrics: [{
            ...metrics.scopeMetrics[0].metrics[0],
            dataPoints: [points[i]],
          } as MetricData],
        }],
      };
      assert.deepEqual(gaugePointTimes(encode(one)), [expected[i]]);
    }
  });

  it("writes NaN, infinite, huge and negative values as protobufjs reads them", () => {
    const values = [
      NaN,
      Infinity,
      -Infinity,
      -0,
      2 ** 60,
      -(2 ** 60),
      1e308,
      -7,
    ];
    for (const valueType of ["double", "int"] as const) {
      const metrics = gauge(
        values.map((value) => ({
          attributes: { k: 1 },
          startTimeUnixMs: 0,
          startTimeNanosInMs: 0,
          timeUnixMs: 1,
          timeNanosInMs: 0,
          value,
          exemplars: [],
        })),
        valueType,
      );
      const decoded = decodeMetrics(encode(metrics)).resourceMetrics[0]
        .scopeMetrics[0].metrics[0].gauge.dataPoints;
      decoded.forEach((p: { asDouble?: number; asInt?: string }, i: number) => {
        const v = values[i];
        if (valueType === "int" && Number.isSafeInteger(v)) {
          assert.equal(p.asInt, String(v === 0 ? 0 : v));
        } else if (Number.isNaN(v)) assert.ok(Number.isNaN(p.asDouble));
        else assert.equal(p.asDouble, v);
      });
    }
  });
});
