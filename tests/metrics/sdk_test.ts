import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  findMetric,
  InMemoryMetricExporter,
  ManualMetricReader,
  MeterProvider,
  numberPoints,
  PeriodicExportingMetricReader,
} from "../../pipeline/metrics/mod.ts";
import type { BatchScheduler, ExportResult } from "../../pipeline/mod.ts";
import { withActiveSpan } from "../../pipeline/mod.ts";
import { points, rig } from "./_helpers.ts";

describe("instrument rules", () => {
  it("drops bad names with a diagnostic and a count, never throwing", async () => {
    const r = rig();
    const meter = r.provider.getMeter("m");
    for (const name of ["", "1abc", "a b", "x".repeat(256), null, 42, "é"]) {
      const c = meter.createCounter(name as string);
      assert.equal(c.enabled(), false);
      c.add(1);
    }
    assert.equal(meter.createCounter("a".repeat(255)).enabled(), true);
    assert.equal(r.provider.stats.invalidInstruments, 7);
    assert.equal(r.diagnostics.length, 7);
    assert.deepEqual((await r.collect()).resourceMetrics.scopeMetrics, []);
  });

  it("drops negative increments, non-finite and non-number values, counting each", async () => {
    const r = rig();
    const meter = r.provider.getMeter("m");
    const c = meter.createCounter("c");
    const h = meter.createHistogram("h");
    c.add(-1);
    c.add(NaN);
    c.add(Infinity);
    c.add("3" as unknown as number);
    c.add(1n as unknown as number);
    c.add(undefined as unknown as number);
    h.record(-Infinity);
    h.record(-5); // negative histogram values are kept
    c.add(2);
    const s = r.provider.stats;
    assert.equal(s.negativeValues, 1);
    assert.equal(s.nonFiniteValues, 3);
    assert.equal(s.invalidValues, 3);
    const result = await r.collect();
    assert.equal(
      numberPoints(findMetric(result.resourceMetrics, "c"))[0].value,
      2,
    );
    const hm = findMetric(result.resourceMetrics, "h");
    assert.ok(hm?.dataPointType === "histogram");
    assert.equal(hm.dataPoints[0].sum, -5);
  });

  it("returns the same stream for the same instrument, and warns on a conflicting one", async () => {
    const r = rig();
    const meter = r.provider.getMeter("m");
    meter.createCounter("Jobs", { unit: "1" }).add(1);
    meter.createCounter("jobs", { unit: "1" }).add(2);
    assert.equal(r.diagnostics.length, 0);
    meter.createHistogram("jobs").record(5);
    assert.match(r.diagnostics[0].message, /created before/);
    const { resourceMetrics } = await r.collect();
    assert.equal(resourceMetrics.scopeMetrics[0].metrics.length, 2);
    assert.equal(
      numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value,
      3,
    );
  });

  it("replaces a non-ASCII or long unit with a diagnostic", async () => {
    const r = rig();
    r.provider.getMeter("m").createCounter("c", { unit: "µs" }).add(1);
    const m = await r.metric("c");
    assert.equal(m?.descriptor.unit, "");
    assert.match(r.diagnostics[0].message, /unit/);
  });

  it("is disabled without readers and after shutdown", async () => {
    const none = new MeterProvider({ env: () => undefined });
    assert.equal(none.getMeter("m").createCounter("c").enabled(), false);
    const r = rig();
    const c = r.provider.getMeter("m").createCounter("c");
    assert.equal(c.enabled(), true);
    await r.provider.shutdown();
    assert.equal(c.enabled(), false);
    c.add(1);
    assert.equal((await r.collect()).errors.length, 1);
  });

  it("keeps the meter's scope: name, version, schema URL, attributes", async () => {
    const r = rig();
    const meter = r.provider.getMeter("lib", "1.2.3", {
      schemaUrl: "https://s",
      attributes: { team: "x" },
    });
    assert.equal(
      r.provider.getMeter("lib", "1.2.3", {
        schemaUrl: "https://s",
        attributes: { team: "x" },
      }),
      meter,
    );
    assert.notEqual(r.provider.getMeter("lib", "1.2.4"), meter);
    meter.createCounter("c").add(1);
    const { resourceMetrics } = await r.collect();
    assert.deepEqual(resourceMetrics.scopeMetrics[0].scope, {
      name: "lib",
      version: "1.2.3",
      schemaUrl: "https://s",
      attributes: { team: "x" },
    });
  });
});

describe("cardinality limit", () => {
  it("sends sets past the limit to the overflow series and counts them", async () => {
    const r = rig({ cardinalityLimit: 3 });
    const c = r.provider.getMeter("m").createCounter("c");
    c.add(1, { k: "a" });
    c.add(1, { k: "b" });
    c.add(1, { k: "c" });
    c.add(1, { k: "d" });
    c.add(1, { k: "a" }); // still its own series
    const m = await r.metric("c");
    const got = points(m).map((p) => [p.attributes, p.value]);
    assert.deepEqual(got, [
      [{ k: "a" }, 2],
      [{ k: "b" }, 1],
      [{ "otel.metric.overflow": true }, 2],
    ]);
    assert.equal(r.provider.stats.overflowed, 2);
    assert.equal(r.provider.stats.series, 3);
  });

  it("holds memory and series bounded under 100k distinct sets", async () => {
    const r = rig({ cardinalityLimit: 100, temporality: "cumulative" });
    const c = r.provider.getMeter("m").createCounter("c");
    for (let i = 0; i < 100_000; i++) c.add(1, { id: i, kind: "x" });
    assert.equal(r.provider.stats.series, 100);
    const m = await r.metric("c");
    const total = points(m).reduce((a, p) => a + p.value, 0);
    assert.equal(total, 100_000, "no measurement lost");
  });

  it("frees idle series after a delta collection", async () => {
    const r = rig({ cardinalityLimit: 3, temporality: "delta" });
    const c = r.provider.getMeter("m").createCounter("c");
    c.add(1, { k: "a" });
    c.add(1, { k: "b" });
    await r.collect();
    await r.collect(); // a and b idle for one interval: freed
    c.add(1, { k: "c" });
    c.add(1, { k: "d" });
    const m = await r.metric("c");
    assert.deepEqual(points(m).map((p) => p.attributes.k), ["c", "d"]);
    assert.equal(r.provider.stats.overflowed, 0);
  });
});

describe("hostile input", () => {
  it("never throws on null, throwing getters, Proxies, cycles or huge sets", async () => {
    const r = rig();
    const c = r.provider.getMeter("m").createCounter("c");
    const throwing = {};
    Object.defineProperty(throwing, "k", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const proxy = new Proxy({}, {
      ownKeys() {
        throw new Error("trap");
      },
    });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const huge: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) huge["k" + i] = i;
    const inputs: unknown[] = [
      null,
      throwing,
      proxy,
      cyclic,
      huge,
      "str",
      5,
      [1, 2],
      {
        toString() {
          throw 1;
        },
      },
      { k: "x".repeat(100_000) },
      { s: Symbol("x"), f: () => 1 },
      { n: NaN },
      { b: 1n << 70n },
      { "\ud800": "\udfff" },
    ];
    for (const input of inputs) {
      c.add(1, input as never);
      c.add(1, input as never);
    }
    const { resourceMetrics } = await r.collect();
    const ps = numberPoints(resourceMetrics.scopeMetrics[0].metrics[0]);
    assert.ok(
      r.provider.stats.unreadableAttributes >= 4,
      `unreadable ${r.provider.stats.unreadableAttributes}`,
    );
    const hugePoint = ps.find((p) => "k0" in p.attributes);
    assert.ok(hugePoint);
    assert.equal(
      Object.keys(hugePoint.attributes).length,
      128,
      "attribute count limit",
    );
    const longPoint = ps.find((p) => typeof p.attributes.k === "string");
    assert.equal(longPoint?.value, 2);
    const cyclePoint = ps.find((p) => p.attributes.a === 1);
    assert.deepEqual(cyclePoint?.attributes, { a: 1 });
  });

  it("does not follow mutations of an attributes object after recording", async () => {
    const r = rig();
    const c = r.provider.getMeter("m").createCounter("c");
    const attrs: Record<string, string> = { k: "a" };
    c.add(1, attrs);
    attrs.k = "b";
    c.add(1, attrs);
    assert.deepEqual(
      points(await r.metric("c")).map((p) => [p.attributes.k, p.value]),
      [["a", 1], ["b", 1]],
    );
  });
});

describe("observable instruments", () => {
  it("reports observed totals; delta takes differences", async () => {
    const r = rig({ temporality: "delta" });
    let total = 10;
    r.provider.getMeter("m").createObservableCounter("oc").addCallback((res) =>
      res.observe(total, { k: "a" })
    );
    assert.deepEqual(numberPoints(await r.metric("oc")).map((p) => p.value), [
      10,
    ]);
    total = 15;
    assert.deepEqual(numberPoints(await r.metric("oc")).map((p) => p.value), [
      5,
    ]);
    total = 15;
    assert.deepEqual(numberPoints(await r.metric("oc")).map((p) => p.value), [
      0,
    ]);
  });

  it("counts a throwing callback and keeps the others", async () => {
    const r = rig();
    const meter = r.provider.getMeter("m");
    meter.createObservableGauge("bad").addCallback(() => {
      throw new Error("nope");
    });
    meter.createObservableGauge("good").addCallback((res) => res.observe(1));
    meter.createObservableGauge("rejects").addCallback(() =>
      Promise.reject(new Error("async nope"))
    );
    const result = await r.collect();
    assert.equal(result.errors.length, 2);
    assert.equal(r.provider.stats.callbackErrors, 2);
    assert.equal(
      numberPoints(findMetric(result.resourceMetrics, "good"))[0].value,
      1,
    );
    await r.collect();
    assert.equal(r.provider.stats.callbackErrors, 4);
    assert.equal(
      r.diagnostics.filter((d) => /callback failed/.test(d.message)).length,
      2,
      "one diagnostic per callback",
    );
  });

  it("bounds a hanging callback by the timeout and drops its late observations", async () => {
    const r = rig({ callbackTimeoutMillis: 30 });
    const meter = r.provider.getMeter("m");
    let release: () => void = () => {};
    const g = meter.createObservableGauge("slow");
    g.addCallback((res) =>
      new Promise<void>((resolve) => {
        release = () => {
          res.observe(1);
          resolve();
        };
      })
    );
    meter.createObservableGauge("fast").addCallback((res) => res.observe(2));
    const started = performance.now();
    const result = await r.collect();
    assert.ok(performance.now() - started < 2000);
    assert.equal(r.provider.stats.callbackTimeouts, 1);
    assert.equal(result.errors.length, 1);
    assert.equal(findMetric(result.resourceMetrics, "slow"), undefined);
    assert.equal(
      numberPoints(findMetric(result.resourceMetrics, "fast"))[0].value,
      2,
    );
    release();
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(r.provider.stats.lateObservations, 1);
  });

  it("runs batch callbacks and ignores instruments not registered", async () => {
    const r = rig();
    const meter = r.provider.getMeter("m");
    const a = meter.createObservableUpDownCounter("a");
    const b = meter.createObservableGauge("b");
    const other = meter.createObservableGauge("other");
    const callback = (res: { observe: (i: typeof a, v: number) => void }) => {
      res.observe(a, -2);
      res.observe(b, 3);
      res.observe(other, 9);
    };
    meter.addBatchObservableCallback(callback, [a, b]);
    let result = await r.collect();
    assert.equal(
      numberPoints(findMetric(result.resourceMetrics, "a"))[0].value,
      -2,
    );
    assert.equal(
      numberPoints(findMetric(result.resourceMetrics, "b"))[0].value,
      3,
    );
    assert.equal(findMetric(result.resourceMetrics, "other"), undefined);
    meter.removeBatchObservableCallback(callback, [a, b]);
    result = await r.collect();
    assert.equal(result.resourceMetrics.scopeMetrics.length, 0);
  });
});

describe("readers", () => {
  it("keeps each reader's temporality apart", async () => {
    const cumulative = new ManualMetricReader();
    const delta = new ManualMetricReader({ temporalityPreference: "delta" });
    const provider = new MeterProvider({
      env: () => undefined,
      readers: [cumulative, delta],
    });
    const c = provider.getMeter("m").createCounter("c");
    c.add(2);
    await delta.collect();
    c.add(3);
    assert.equal(
      numberPoints(
        findMetric((await cumulative.collect()).resourceMetrics, "c"),
      )[0].value,
      5,
    );
    assert.equal(
      numberPoints(findMetric((await delta.collect()).resourceMetrics, "c"))[0]
        .value,
      3,
    );
  });

  it("refuses a second registration", () => {
    const reader = new ManualMetricReader();
    new MeterProvider({ env: () => undefined, readers: [reader] });
    assert.throws(
      () => new MeterProvider({ env: () => undefined, readers: [reader] }),
      /twice/,
    );
  });

  it("exports every interval without overlapping, and times out a hung export", async () => {
    const timers: { fn: () => void; ms: number; live: boolean }[] = [];
    const scheduler: BatchScheduler = {
      setTimeout(fn, ms) {
        const t = { fn, ms, live: true };
        timers.push(t);
        return t;
      },
      clearTimeout(h) {
        if (h) (h as { live: boolean }).live = false;
      },
    };
    const fire = (ms: number) => {
      const t = timers.find((t) => t.live && t.ms === ms);
      assert.ok(t, `a timer of ${ms} ms is armed`);
      t.live = false;
      t.fn();
    };
    let calls = 0;
    let resolveExport: (r: ExportResult) => void = () => {};
    const exporter = {
      export: () => {
        calls++;
        return new Promise<ExportResult>((
          resolve,
        ) => (resolveExport = resolve));
      },
      shutdown: () => Promise.resolve(),
    };
    const diagnostics: string[] = [];
    const reader = new PeriodicExportingMetricReader(exporter, {
      exportIntervalMillis: 1000,
      exportTimeoutMillis: 500,
      scheduler,
      env: () => undefined,
      diagnostics: (d) => diagnostics.push(d.message),
    });
    const provider = new MeterProvider({
      env: () => undefined,
      readers: [reader],
    });
    provider.getMeter("m").createCounter("c").add(1);
    fire(1000);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(calls, 1);
    // No second interval timer while the export runs.
    assert.equal(timers.filter((t) => t.live && t.ms === 1000).length, 0);
    fire(500); // the export timeout
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(reader.stats.exportTimeouts, 1);
    assert.match(diagnostics[0], /exportTimeoutMillis/);
    assert.equal(
      timers.filter((t) => t.live && t.ms === 1000).length,
      1,
      "re-armed after the export ended",
    );
    resolveExport({ code: "success" });
    const flushing = reader.forceFlush();
    await new Promise((r) => setTimeout(r, 5));
    resolveExport({ code: "success" });
    await flushing;
    assert.equal(calls, 2);
  });

  it("reads OTEL_METRIC_EXPORT_INTERVAL and _TIMEOUT, options winning", () => {
    const vars: Record<string, string> = {
      OTEL_METRIC_EXPORT_INTERVAL: "5000",
      OTEL_METRIC_EXPORT_TIMEOUT: "100",
    };
    const exporter = new InMemoryMetricExporter();
    const a = new PeriodicExportingMetricReader(exporter, {
      env: (n) => vars[n],
    });
    assert.equal(a.exportIntervalMillis, 5000);
    assert.equal(a.exportTimeoutMillis, 100);
    const b = new PeriodicExportingMetricReader(exporter, {
      env: (n) => vars[n],
      exportIntervalMillis: 7,
    });
    assert.equal(b.exportIntervalMillis, 7);
    const bad: string[] = [];
    const c = new PeriodicExportingMetricReader(exporter, {
      env: (n) => (n.startsWith("OTEL_METRIC_EXPORT_") ? "soon" : undefined),
      diagnostics: (d) => bad.push(d.message),
    });
    assert.equal(c.exportIntervalMillis, 60000);
    assert.equal(c.exportTimeoutMillis, 30000);
    assert.equal(bad.length, 2);
    assert.throws(
      () =>
        new PeriodicExportingMetricReader(exporter, {
          exportIntervalMillis: 0,
        }),
      /exportIntervalMillis/,
    );
  });

  it("takes the exporter's temporality preference and exports on shutdown", async () => {
    const exporter = new InMemoryMetricExporter({
      temporalityPreference: "delta",
    });
    const reader = new PeriodicExportingMetricReader(exporter, {
      env: () => undefined,
    });
    assert.equal(reader.temporalityPreference, "delta");
    const provider = new MeterProvider({
      env: () => undefined,
      readers: [reader],
    });
    const c = provider.getMeter("m").createCounter("c");
    c.add(1);
    await provider.forceFlush();
    c.add(4);
    await provider.shutdown();
    assert.deepEqual(
      exporter.collections.map((m) =>
        numberPoints(findMetric(m, "c"))[0].value
      ),
      [1, 4],
    );
  });
});

describe("views", () => {
  it("renames, keeps listed attribute keys, changes the aggregation, drops", async () => {
    const r = rig({
      views: [
        {
          instrumentName: "http.server.duration",
          name: "request.duration",
          description: "renamed",
          attributeKeys: ["route"],
        },
        {
          instrumentType: "counter",
          meterName: "noisy",
          aggregation: { type: "drop" },
        },
        { instrumentName: "q*", aggregation: { type: "lastValue" } },
      ],
    });
    const h = r.provider.getMeter("web").createHistogram(
      "http.server.duration",
    );
    h.record(1, { route: "/a", user: "u1" });
    h.record(2, { route: "/a", user: "u2" });
    const dropped = r.provider.getMeter("noisy").createCounter("c");
    assert.equal(dropped.enabled(), false);
    dropped.add(1);
    r.provider.getMeter("web").createCounter("c").add(1); // another meter: kept
    const q = r.provider.getMeter("web").createCounter("queue.adds");
    q.add(5);
    q.add(6);
    const { resourceMetrics } = await r.collect();
    const renamed = findMetric(resourceMetrics, "request.duration");
    assert.ok(renamed?.dataPointType === "histogram");
    assert.equal(renamed.descriptor.description, "renamed");
    assert.equal(renamed.dataPoints.length, 1);
    assert.deepEqual(renamed.dataPoints[0].attributes, { route: "/a" });
    assert.equal(renamed.dataPoints[0].count, 2);
    assert.equal(
      findMetric(resourceMetrics, "http.server.duration"),
      undefined,
    );
    assert.equal(resourceMetrics.scopeMetrics.length, 1);
    const last = findMetric(resourceMetrics, "queue.adds");
    assert.equal(last?.dataPointType, "gauge");
    assert.equal(numberPoints(last)[0].value, 6);
  });

  it("rejects views that rename a wildcard or select nothing", () => {
    assert.throws(
      () =>
        new MeterProvider({
          env: () => undefined,
          views: [{ instrumentName: "a*", name: "b" }],
        }),
      /renaming view/,
    );
    assert.throws(
      () => new MeterProvider({ env: () => undefined, views: [{ name: "b" }] }),
      /selects no instrument/,
    );
    assert.throws(
      () =>
        new MeterProvider({
          env: () => undefined,
          views: [{
            instrumentName: "a",
            aggregation: { type: "exponentialHistogram", maxScale: 30 },
          }],
        }),
      /maxScale/,
    );
  });

  it("applies a per-view cardinality limit", async () => {
    const r = rig({ views: [{ instrumentName: "c", cardinalityLimit: 2 }] });
    const c = r.provider.getMeter("m").createCounter("c");
    c.add(1, { k: 1 });
    c.add(1, { k: 2 });
    assert.deepEqual(points(await r.metric("c")).map((p) => p.attributes), [{
      k: 1,
    }, { "otel.metric.overflow": true }]);
  });
});

describe("exemplars", () => {
  const span = (flags: number) => ({
    spanContext: () => ({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: flags,
    }),
  });

  it("links a histogram bucket to the sampled span active at the measurement", async () => {
    const r = rig({
      views: [{ instrumentName: "h", attributeKeys: ["route"] }],
    });
    const h = r.provider.getMeter("m").createHistogram("h", {
      advice: { explicitBucketBoundaries: [1, 10] },
    });
    h.record(0.5, { route: "/" }); // no span: no exemplar (trace_based)
    withActiveSpan(span(1), () => h.record(5, { route: "/", user: "u" }));
    withActiveSpan(span(0), () => h.record(50, { route: "/" })); // not sampled
    const m = await r.metric("h");
    assert.ok(m?.dataPointType === "histogram");
    const exemplars = m.dataPoints[0].exemplars;
    assert.equal(exemplars.length, 1);
    assert.equal(exemplars[0].value, 5);
    assert.equal(exemplars[0].traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(exemplars[0].spanId, "00f067aa0ba902b7");
    assert.deepEqual(exemplars[0].filteredAttributes, { user: "u" });
    assert.ok(exemplars[0].timeUnixMs > 1.6e12);
    assert.ok(
      Number.isInteger(exemplars[0].timeNanosInMs) &&
        exemplars[0].timeNanosInMs >= 0 && exemplars[0].timeNanosInMs < 1e6,
    );
    const again = await r.metric("h");
    assert.ok(again?.dataPointType === "histogram");
    assert.equal(
      again.dataPoints[0].exemplars.length,
      0,
      "a reservoir starts over each collection",
    );
  });

  it("follows OTEL_METRICS_EXEMPLAR_FILTER", async () => {
    const on = rig({
      env: (
        n,
      ) => (n === "OTEL_METRICS_EXEMPLAR_FILTER" ? "always_on" : undefined),
    });
    assert.equal(on.provider.exemplarFilter, "always_on");
    on.provider.getMeter("m").createCounter("c").add(1);
    const ex = numberPoints(await on.metric("c"))[0].exemplars;
    assert.equal(ex.length, 1);
    assert.equal(ex[0].traceId, undefined);
    const off = rig({
      env: (
        n,
      ) => (n === "OTEL_METRICS_EXEMPLAR_FILTER" ? "always_off" : undefined),
    });
    const c = off.provider.getMeter("m").createCounter("c");
    withActiveSpan(span(1), () => c.add(1));
    assert.equal(numberPoints(await off.metric("c"))[0].exemplars.length, 0);
  });
});
