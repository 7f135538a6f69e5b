// Metric data points carry exact times (whole ms + ns in the ms, as log
// records and spans do) through the SDK, OTLP protobuf (read back with
// protobufjs), OTLP/JSON and the user_events and ETW metric exporters
// (recording fakes, payload read back with protobufjs). The clock is pinned
// by replacing performance.now, and the expected nanoseconds are computed
// with bigint, independently of the library's split arithmetic. The pinned
// times are chosen so that no float64 holds their nanosecond count: the old
// float "nowUnixNano" model cannot produce them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Resource, withActiveSpan } from "../../pipeline/mod.ts";
import {
  ManualMetricReader,
  MeterProvider,
  type MetricData,
  type ResourceMetrics,
} from "../../pipeline/metrics/mod.ts";
import { writeMetricsRequest } from "../../exporters/_otlp_metrics_proto.ts";
import { metricsRequestJson } from "../../exporters/_otlp_metrics_json.ts";
import { ProtoBuffer } from "../../exporters/_proto_writer.ts";
import { EtwMetricExporter } from "../../processors/etw/mod.ts";
import { UserEventsMetricExporter } from "../../processors/user_events/mod.ts";
import { decodeMetrics } from "../otlp/_decoder.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";

// performance.timeOrigin as the library splits it: whole ms + µs.
const origin = performance.timeOrigin;
const originMs = Math.floor(origin);
let originMicros = Math.round((origin - originMs) * 1000);
let originWholeMs = originMs;
if (originMicros >= 1000) {
  originWholeMs += 1;
  originMicros -= 1000;
}

/** The exact ns since the epoch of performance.now() === ms + micros/1000. */
function expectedNanos(ms: number, micros: number): bigint {
  return (BigInt(originWholeMs) + BigInt(ms)) * 1_000_000n +
    (BigInt(originMicros) + BigInt(micros)) * 1_000n;
}

/**
 * A clock reading (whole ms past the origin, µs) whose exact ns count a
 * float64 cannot hold, from `ms` on.
 */
function unrepresentable(ms: number): { ms: number; micros: number } {
  for (let micros = 1; micros < 1000; micros++) {
    const n = expectedNanos(ms, micros);
    if (BigInt(Number(n)) !== n) return { ms, micros };
  }
  throw new Error("no unrepresentable time found");
}

const nativeNow = performance.now;
/** Runs `fn` with performance.now() pinned to what `clock` holds. */
async function withClock<T>(
  clock: { ms: number; micros: number },
  fn: () => Promise<T>,
): Promise<T> {
  Object.defineProperty(performance, "now", {
    value: () => clock.ms + clock.micros / 1000,
    configurable: true,
    writable: true,
  });
  try {
    return await fn();
  } finally {
    // Deleting the own property brings the prototype's method back.
    delete (performance as { now?: unknown }).now;
    if (performance.now !== nativeNow) {
      Object.defineProperty(performance, "now", {
        value: nativeNow,
        configurable: true,
        writable: true,
      });
    }
  }
}

const pair = (ms: number, nanos: number): bigint =>
  BigInt(ms) * 1_000_000n + BigInt(nanos);

const sampled = {
  spanContext: () => ({
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
  }),
};

interface Pinned {
  readonly collection: ResourceMetrics;
  readonly start: bigint;
  readonly end: bigint;
  readonly exemplar: bigint;
}

/** A cumulative sum, a histogram with an exemplar and a gauge, under a pinned clock. */
async function pinnedCollection(
  temporalityPreference: "cumulative" | "delta" = "cumulative",
): Promise<Pinned> {
  const startAt = unrepresentable(5_000);
  const exemplarAt = unrepresentable(6_000);
  const endAt = unrepresentable(7_000);
  const clock = { ...startAt };
  const collection = await withClock(clock, async () => {
    const reader = new ManualMetricReader({ temporalityPreference });
    const provider = new MeterProvider({
      env: () => undefined,
      resource: new Resource({ "service.name": "svc" }),
      readers: [reader],
      exemplarFilter: "trace_based",
    });
    const meter = provider.getMeter("lib");
    const counter = meter.createCounter("requests", { valueType: "int" });
    const histogram = meter.createHistogram("latency", {
      advice: { explicitBucketBoundaries: [1] },
    });
    counter.add(2, { route: "/a" }); // the series starts here
    histogram.record(0.25, { route: "/a" });
    Object.assign(clock, exemplarAt);
    withActiveSpan(sampled, () => histogram.record(0.5, { route: "/a" }));
    meter.createGauge("temperature").record(21.5);
    Object.assign(clock, endAt);
    return (await reader.collect()).resourceMetrics;
  });
  return {
    collection,
    start: expectedNanos(startAt.ms, startAt.micros),
    end: expectedNanos(endAt.ms, endAt.micros),
    exemplar: expectedNanos(exemplarAt.ms, exemplarAt.micros),
  };
}

function metric(c: ResourceMetrics, name: string): MetricData {
  const m = c.scopeMetrics[0].metrics.find((m) => m.descriptor.name === name);
  assert.ok(m, name);
  return m;
}

describe("exact metric times", () => {
  it("the SDK's data points and exemplars hold the clock's exact time", async () => {
    const { collection, start, end, exemplar } = await pinnedCollection();
    assert.notEqual(BigInt(Number(start)), start, "not a float64 ns count");
    const sum = metric(collection, "requests");
    assert.ok(sum.dataPointType === "sum");
    const p = sum.dataPoints[0];
    assert.equal(pair(p.startTimeUnixMs, p.startTimeNanosInMs), start);
    assert.equal(pair(p.timeUnixMs, p.timeNanosInMs), end);
    const h = metric(collection, "latency");
    assert.ok(h.dataPointType === "histogram");
    const e = h.dataPoints[0].exemplars[0];
    assert.equal(pair(e.timeUnixMs, e.timeNanosInMs), exemplar);
    const g = metric(collection, "temperature");
    assert.ok(g.dataPointType === "gauge");
    assert.deepEqual(
      [g.dataPoints[0].startTimeUnixMs, g.dataPoints[0].startTimeNanosInMs],
      [0, 0],
      "a gauge has no start",
    );
  });

  it("OTLP protobuf (protobufjs) and OTLP/JSON carry the start of a cumulative sum exact to the ns", async () => {
    const { collection, start, end, exemplar } = await pinnedCollection();
    const out = new ProtoBuffer(64);
    const n = writeMetricsRequest(collection, out, 0);
    const decoded = decodeMetrics(out.bytes.subarray(0, n));
    // deno-lint-ignore no-explicit-any
    const byName = new Map<string, any>(
      decoded.resourceMetrics[0].scopeMetrics[0].metrics.map((
        m: { name: string },
      ) => [m.name, m]),
    );
    const sum = byName.get("requests").sum;
    assert.equal(sum.aggregationTemporality, 2);
    assert.equal(sum.dataPoints[0].startTimeUnixNano, String(start));
    assert.equal(sum.dataPoints[0].timeUnixNano, String(end));
    const h = byName.get("latency").histogram.dataPoints[0];
    assert.equal(h.startTimeUnixNano, String(start));
    assert.equal(h.exemplars[0].timeUnixNano, String(exemplar));
    const gauge = byName.get("temperature").gauge.dataPoints[0];
    assert.equal(gauge.startTimeUnixNano, undefined, "unset start left out");
    assert.equal(gauge.timeUnixNano, String(end));

    // deno-lint-ignore no-explicit-any
    const json = metricsRequestJson(collection) as any;
    // deno-lint-ignore no-explicit-any
    const metrics = json.resourceMetrics[0].scopeMetrics[0].metrics as any[];
    const js = metrics.find((m) => m.name === "requests").sum.dataPoints[0];
    assert.equal(js.startTimeUnixNano, String(start));
    assert.equal(js.timeUnixNano, String(end));
    const jh = metrics.find((m) => m.name === "latency").histogram
      .dataPoints[0];
    assert.equal(jh.exemplars[0].timeUnixNano, String(exemplar));
    const jg = metrics.find((m) => m.name === "temperature").gauge
      .dataPoints[0];
    assert.equal(jg.startTimeUnixNano, undefined);
    assert.equal(jg.timeUnixNano, String(end));
  });

  it("a delta interval starts exactly at the previous collection", async () => {
    const first = unrepresentable(5_000);
    const second = unrepresentable(9_000);
    const clock = { ...first };
    const [a, b] = await withClock(clock, async () => {
      const reader = new ManualMetricReader({ temporalityPreference: "delta" });
      const provider = new MeterProvider({
        env: () => undefined,
        readers: [reader],
      });
      const c = provider.getMeter("m").createCounter("c");
      c.add(1);
      const a = (await reader.collect()).resourceMetrics;
      Object.assign(clock, second);
      c.add(1);
      return [a, (await reader.collect()).resourceMetrics];
    });
    const pa = metric(a, "c").dataPoints[0];
    const pb = metric(b, "c").dataPoints[0];
    assert.equal(
      pair(pa.timeUnixMs, pa.timeNanosInMs),
      expectedNanos(first.ms, first.micros),
    );
    assert.equal(
      pair(pb.startTimeUnixMs, pb.startTimeNanosInMs),
      expectedNanos(first.ms, first.micros),
    );
    assert.equal(
      pair(pb.timeUnixMs, pb.timeNanosInMs),
      expectedNanos(second.ms, second.micros),
    );
  });

  it("the ETW metric exporter's payload holds the exact times", async () => {
    const { collection, start, end } = await pinnedCollection("delta");
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const exporter = new EtwMetricExporter(fake, { diagnostics: () => {} });
    await exporter.export(collection, new AbortController().signal);
    assert.equal(exporter.stats.written, 3);
    const decoded = decodeMetrics(fake.writes[0].blobs[2].bytes);
    const p = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .dataPoints[0];
    assert.equal(p.startTimeUnixNano, String(start));
    assert.equal(p.timeUnixNano, String(end));
  });

  it("the user_events metric exporter's payload holds the exact times", async () => {
    const { collection, start, end } = await pinnedCollection("delta");
    const libc = new FakeLibc();
    using exporter = new UserEventsMetricExporter(libc, {
      diagnostics: () => {},
    });
    libc.enable("otlp_metrics");
    await exporter.export(collection, new AbortController().signal);
    assert.equal(exporter.stats.written, 3);
    // After the write index: u32 protocol, char[8] version, __rel_loc (size << 16), buffer.
    const event = libc.writes[0].event;
    const v = new DataView(event.buffer, event.byteOffset, event.byteLength);
    const size = v.getUint32(12, true) >>> 16;
    const decoded = decodeMetrics(event.subarray(16, 16 + size));
    const p = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .dataPoints[0];
    assert.equal(p.startTimeUnixNano, String(start));
    assert.equal(p.timeUnixNano, String(end));
  });

  it("hostile times in hand-made points are left out or written as 0, never thrown, and the rest is intact", () => {
    const hostileObject = {
      valueOf() {
        throw new Error("valueOf");
      },
    };
    const bad: unknown[] = [
      NaN,
      -1,
      Infinity,
      1.5,
      2 ** 60,
      "1",
      undefined,
      null,
      {},
      10n,
      hostileObject,
    ];
    const points = bad.map((t, i) => ({
      attributes: { i },
      startTimeUnixMs: t,
      startTimeNanosInMs: i % 2 === 0 ? 0 : 1_000_000,
      timeUnixMs: t,
      timeNanosInMs: t,
      value: i,
      exemplars: [{
        value: 1,
        timeUnixMs: t,
        timeNanosInMs: -5,
        filteredAttributes: {},
      }],
    }));
    points.push({
      attributes: { i: 99 },
      startTimeUnixMs: 1_700_000_013_123,
      startTimeNanosInMs: 456_789,
      timeUnixMs: 18_446_744_073_709,
      timeNanosInMs: 551_615,
      value: 99,
      exemplars: [],
    });
    const collection = {
      resource: new Resource({}),
      scopeMetrics: [{
        scope: { name: "s" },
        metrics: [{
          descriptor: {
            name: "c",
            description: "",
            unit: "",
            type: "counter",
            valueType: "int",
          },
          dataPointType: "sum",
          aggregationTemporality: "delta",
          isMonotonic: true,
          dataPoints: points,
        }],
      }],
    } as unknown as ResourceMetrics;
    const out = new ProtoBuffer(16);
    const n = writeMetricsRequest(collection, out, 0);
    const decoded = decodeMetrics(out.bytes.subarray(0, n));
    const dp = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .dataPoints;
    assert.equal(dp.length, bad.length + 1);
    // protobufjs reads a fixed64 0 on the wire as absent (proto3 default).
    const zero = (v: string | undefined) => (v ?? "0") === "0";
    for (let i = 0; i < bad.length; i++) {
      assert.equal(dp[i].asInt, String(i));
      assert.ok(zero(dp[i].startTimeUnixNano), `start ${bad[i]}`);
      assert.ok(zero(dp[i].timeUnixNano), `time ${bad[i]}`);
      assert.ok(zero(dp[i].exemplars[0].timeUnixNano), `exemplar ${bad[i]}`);
    }
    assert.equal(dp[bad.length].startTimeUnixNano, "1700000013123456789");
    assert.equal(dp[bad.length].timeUnixNano, "18446744073709551615");

    // deno-lint-ignore no-explicit-any
    const json = metricsRequestJson(collection) as any;
    const jp = json.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .dataPoints;
    for (let i = 0; i < bad.length; i++) {
      assert.equal(jp[i].startTimeUnixNano, undefined);
      assert.equal(jp[i].timeUnixNano, "0");
      assert.equal(jp[i].exemplars[0].timeUnixNano, "0");
    }
    assert.equal(jp[bad.length].startTimeUnixNano, "1700000013123456789");
    assert.equal(jp[bad.length].timeUnixNano, "18446744073709551615");
  });
});
