// The OTLP metrics encoders and exporter, checked against protobufjs with
// the official metrics.proto, and against a real HTTP collector on loopback.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Resource, withActiveSpan } from "../../pipeline/mod.ts";
import {
  ManualMetricReader,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from "../../pipeline/metrics/mod.ts";
import { OtlpHttpMetricExporter } from "../../exporters/otlp/mod.ts";
import {
  writeMetricPointRequest,
  writeMetricsRequest,
} from "../../exporters/_otlp_metrics_proto.ts";
import { metricsRequestJson } from "../../exporters/_otlp_metrics_json.ts";
import { ProtoBuffer } from "../../exporters/_proto_writer.ts";
import { formatUnixNano } from "../../pipeline/time.ts";
import {
  decodeMetrics,
  encodeResponse,
  hex,
  MetricsResponse,
  plainAttributes,
} from "./_decoder.ts";
import { FakeCollector } from "./_server.ts";

const span = {
  spanContext: () => ({
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
  }),
};

async function sampleCollection(): Promise<ResourceMetrics> {
  const reader = new ManualMetricReader();
  const provider = new MeterProvider({
    env: () => undefined,
    resource: new Resource({ "service.name": "svc" }, "https://schema/r"),
    readers: [reader],
    views: [{
      instrumentName: "exp",
      aggregation: { type: "exponentialHistogram", maxSize: 4 },
    }],
  });
  const meter = provider.getMeter("lib", "2.0", {
    schemaUrl: "https://schema/s",
    attributes: { team: "core" },
  });
  const counter = meter.createCounter("requests", {
    unit: "{request}",
    description: "Requests",
    valueType: "int",
  });
  counter.add(3, { route: "/a", ok: true });
  counter.add(2, { route: "/b", code: 200 });
  meter.createUpDownCounter("inflight", { valueType: "int" }).add(-7);
  meter.createGauge("temperature", { unit: "Cel" }).record(21.5, { room: "é" });
  const h = meter.createHistogram("latency", {
    unit: "s",
    advice: { explicitBucketBoundaries: [0.1, 1] },
  });
  withActiveSpan(span, () => h.record(0.5, { route: "/a" }));
  h.record(2, { route: "/a" });
  const e = meter.createHistogram("exp");
  for (const v of [0, 1, 2, 4, 8, -3]) e.record(v);
  meter.createObservableCounter("cpu", { unit: "s" }).addCallback((r) =>
    r.observe(12.25)
  );
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics;
}

function byName(
  decoded: {
    resourceMetrics: { scopeMetrics: { metrics: { name: string }[] }[] }[];
  },
) {
  const out = new Map<string, ReturnType<typeof Object>>();
  for (const rm of decoded.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) out.set(m.name, m);
    }
  }
  return out;
}

describe("writeMetricsRequest", () => {
  it("encodes every aggregation as protobufjs reads it with the official metrics.proto", async () => {
    const metrics = await sampleCollection();
    const out = new ProtoBuffer(16);
    const end = writeMetricsRequest(metrics, out, 0);
    const decoded = decodeMetrics(out.bytes.subarray(0, end));
    assert.equal(decoded.resourceMetrics.length, 1);
    const rm = decoded.resourceMetrics[0];
    assert.deepEqual(plainAttributes(rm.resource.attributes), {
      "service.name": "svc",
    });
    assert.equal(rm.schemaUrl, "https://schema/r");
    const sm = rm.scopeMetrics[0];
    assert.deepEqual({ name: sm.scope.name, version: sm.scope.version }, {
      name: "lib",
      version: "2.0",
    });
    assert.deepEqual(plainAttributes(sm.scope.attributes), { team: "core" });
    assert.equal(sm.schemaUrl, "https://schema/s");
    const m = byName(decoded);

    const requests = m.get("requests");
    assert.equal(requests.unit, "{request}");
    assert.equal(requests.description, "Requests");
    assert.equal(requests.sum.aggregationTemporality, 2);
    assert.equal(requests.sum.isMonotonic, true);
    assert.deepEqual(
      requests.sum.dataPoints.map((
        p: { asInt: string; attributes: unknown[] },
      ) => [plainAttributes(p.attributes as never), p.asInt]),
      [
        [{ route: "/a", ok: true }, "3"],
        [{ route: "/b", code: 200 }, "2"],
      ],
    );
    const p0 = requests.sum.dataPoints[0];
    const source = metrics.scopeMetrics[0].metrics[0].dataPoints[0];
    assert.equal(
      p0.startTimeUnixNano,
      formatUnixNano(source.startTimeUnixMs, source.startTimeNanosInMs),
    );
    assert.equal(
      p0.timeUnixNano,
      formatUnixNano(source.timeUnixMs, source.timeNanosInMs),
    );

    const inflight = m.get("inflight");
    assert.equal(inflight.sum.isMonotonic, undefined); // proto3 false
    assert.equal(
      inflight.sum.dataPoints[0].asInt,
      "-7",
      "sfixed64 two's complement",
    );

    const temperature = m.get("temperature");
    assert.equal(temperature.gauge.dataPoints[0].asDouble, 21.5);
    assert.deepEqual(
      plainAttributes(temperature.gauge.dataPoints[0].attributes),
      { room: "é" },
    );
    assert.equal(temperature.gauge.dataPoints[0].startTimeUnixNano, undefined);

    const latency = m.get("latency").histogram;
    assert.equal(latency.aggregationTemporality, 2);
    const hp = latency.dataPoints[0];
    assert.equal(hp.count, "2");
    assert.equal(hp.sum, 2.5);
    assert.deepEqual(hp.bucketCounts, ["0", "1", "1"]);
    assert.deepEqual(hp.explicitBounds, [0.1, 1]);
    assert.equal(hp.min, 0.5);
    assert.equal(hp.max, 2);
    assert.equal(hp.exemplars.length, 1);
    assert.equal(hp.exemplars[0].asDouble, 0.5);
    assert.equal(
      hex(hp.exemplars[0].traceId),
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    assert.equal(hex(hp.exemplars[0].spanId), "00f067aa0ba902b7");

    const exp = m.get("exp").exponentialHistogram.dataPoints[0];
    assert.equal(exp.count, "6");
    assert.equal(exp.sum, 12);
    assert.equal(exp.zeroCount, "1");
    assert.equal(exp.min, -3);
    assert.equal(exp.max, 8);
    // 1, 2, 4, 8 in 4 buckets: scale 0, indexes -1..2; -3 -> index 1 at scale 0.
    assert.equal(exp.scale ?? 0, 0);
    assert.deepEqual({
      offset: exp.positive.offset,
      counts: exp.positive.bucketCounts,
    }, { offset: -1, counts: ["1", "1", "1", "1"] });
    assert.deepEqual({
      offset: exp.negative.offset,
      counts: exp.negative.bucketCounts,
    }, { offset: 1, counts: ["1"] });

    const cpu = m.get("cpu");
    assert.equal(cpu.sum.isMonotonic, true);
    assert.equal(cpu.sum.dataPoints[0].asDouble, 12.25);
  });

  it("writes one data point per request for the OS back-ends", async () => {
    const metrics = await sampleCollection();
    const scope = metrics.scopeMetrics[0];
    const metric = scope.metrics[0];
    const out = new ProtoBuffer(8);
    for (let i = 0; i < metric.dataPoints.length; i++) {
      const end = writeMetricPointRequest(
        metrics.resource,
        scope.scope,
        metric,
        i,
        out,
        0,
      );
      const decoded = decodeMetrics(out.bytes.subarray(0, end));
      const metricsOut = decoded.resourceMetrics[0].scopeMetrics[0].metrics;
      assert.equal(metricsOut.length, 1);
      assert.equal(metricsOut[0].name, "requests");
      assert.equal(metricsOut[0].sum.dataPoints.length, 1);
      assert.equal(
        metricsOut[0].sum.dataPoints[0].asInt,
        String(metric.dataPoints[i].attributes.route === "/a" ? 3 : 2),
      );
    }
  });

  it("grows for large collections and long strings, and encodes nothing for an empty one", () => {
    const metrics: ResourceMetrics = {
      resource: new Resource({ big: "x".repeat(100_000) }),
      scopeMetrics: [{
        scope: { name: "s" },
        metrics: [{
          descriptor: {
            name: "n".repeat(300),
            description: "d",
            unit: "",
            type: "counter",
            valueType: "double",
          },
          dataPointType: "sum",
          aggregationTemporality: "delta",
          isMonotonic: true,
          dataPoints: Array.from(
            { length: 3000 },
            (_, i) => ({
              attributes: { i },
              startTimeUnixMs: 1,
              startTimeNanosInMs: 0,
              timeUnixMs: 2,
              timeNanosInMs: 0,
              value: i + 0.5,
              exemplars: [],
            }),
          ),
        }],
      }],
    };
    const out = new ProtoBuffer(16);
    const end = writeMetricsRequest(metrics, out, 0);
    const decoded = decodeMetrics(out.bytes.subarray(0, end));
    const m = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0];
    assert.equal(m.name.length, 300);
    assert.equal(m.sum.aggregationTemporality, 1);
    assert.equal(m.sum.dataPoints.length, 3000);
    assert.equal(m.sum.dataPoints[2999].asDouble, 2999.5);
    assert.equal(
      writeMetricsRequest(
        { resource: new Resource({}), scopeMetrics: [] },
        out,
        0,
      ),
      0,
    );
  });
});

describe("metricsRequestJson", () => {
  it("follows the OTLP/JSON mapping", async () => {
    const metrics = await sampleCollection();
    const json = JSON.parse(JSON.stringify(metricsRequestJson(metrics)));
    const m = byName(json);
    const requests = m.get("requests");
    assert.equal(requests.sum.aggregationTemporality, 2);
    assert.equal(requests.sum.dataPoints[0].asInt, "3");
    assert.equal(typeof requests.sum.dataPoints[0].timeUnixNano, "string");
    const hp = m.get("latency").histogram.dataPoints[0];
    assert.equal(hp.count, "2");
    assert.deepEqual(hp.bucketCounts, ["0", "1", "1"]);
    assert.equal(hp.exemplars[0].traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    const exp = m.get("exp").exponentialHistogram.dataPoints[0];
    assert.deepEqual(exp.positive, {
      offset: -1,
      bucketCounts: ["1", "1", "1", "1"],
    });
    assert.equal(exp.zeroCount, "1");
  });
});

describe("OtlpHttpMetricExporter", () => {
  it("exports periodically to a loopback collector, delta from the environment", async () => {
    await using collector = await FakeCollector.start();
    const vars: Record<string, string> = {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: collector.url("/v1/metrics"),
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "delta",
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: "gzip",
      OTEL_METRIC_EXPORT_INTERVAL: "30",
    };
    const env = (n: string) => vars[n];
    const exporter = new OtlpHttpMetricExporter({ env });
    assert.equal(exporter.temporalityPreference, "delta");
    const reader = new PeriodicExportingMetricReader(exporter, { env });
    assert.equal(reader.exportIntervalMillis, 30);
    const provider = new MeterProvider({
      env: () => undefined,
      readers: [reader],
    });
    const counter = provider.getMeter("app").createCounter("ticks");
    counter.add(5);
    const deadline = performance.now() + 5000;
    while (collector.requests.length < 1 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    counter.add(2);
    await provider.shutdown();
    const values: string[] = [];
    for (const request of collector.requests) {
      assert.equal(request.path, "/v1/metrics");
      assert.equal(request.headers["content-type"], "application/x-protobuf");
      assert.equal(request.headers["content-encoding"], "gzip");
      const decoded = decodeMetrics(request.body);
      for (const rm of decoded.resourceMetrics) {
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            assert.equal(m.sum.aggregationTemporality, 1);
            for (const p of m.sum.dataPoints) values.push(String(p.asDouble));
          }
        }
      }
    }
    assert.deepEqual(
      values,
      ["5", "2"],
      "one delta per interval, the last at shutdown",
    );
    assert.equal(exporter.stats.succeeded, collector.requests.length);
  });

  it("sends OTLP/JSON", async () => {
    await using collector = await FakeCollector.start();
    const exporter = new OtlpHttpMetricExporter({
      env: () => undefined,
      endpoint: collector.url("/v1/metrics"),
      protocol: "http/json",
    });
    const provider = new MeterProvider({
      env: () => undefined,
      readers: [
        new PeriodicExportingMetricReader(exporter, { env: () => undefined }),
      ],
    });
    provider.getMeter("app").createGauge("g").record(3);
    await provider.shutdown();
    assert.equal(collector.requests.length, 1);
    assert.equal(
      collector.requests[0].headers["content-type"],
      "application/json",
    );
    const json = JSON.parse(
      new TextDecoder().decode(collector.requests[0].body),
    );
    assert.equal(
      json.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]
        .asDouble,
      3,
    );
  });

  it("counts rejected data points of a partial success, protobuf and JSON", async () => {
    for (const protocol of ["http/protobuf", "http/json"] as const) {
      await using collector = await FakeCollector.start(() =>
        protocol === "http/protobuf"
          ? {
            status: 200,
            headers: { "content-type": "application/x-protobuf" },
            body: encodeResponse(MetricsResponse, {
              partialSuccess: {
                rejectedDataPoints: 2,
                errorMessage: "too many",
              },
            }),
          }
          : {
            status: 200,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              partialSuccess: {
                rejectedDataPoints: "2",
              },
            }),
          }
      );
      const diagnostics: string[] = [];
      const exporter = new OtlpHttpMetricExporter({
        env: () => undefined,
        endpoint: collector.url("/v1/metrics"),
        protocol,
        diagnostics: (d) => diagnostics.push(d.message),
      });
      const reader = new ManualMetricReader();
      const provider = new MeterProvider({
        env: () => undefined,
        readers: [reader],
      });
      const c = provider.getMeter("app").createCounter("c");
      c.add(1, { k: 1 });
      c.add(1, { k: 2 });
      const result = await exporter.export(
        (await reader.collect()).resourceMetrics,
        new AbortController().signal,
      );
      assert.equal(result.code, "success");
      assert.ok(result.code === "success" && result.rejected === 2);
      assert.equal(exporter.stats.rejected, 2);
      assert.equal(
        result.code === "success" ? result.message : undefined,
        protocol === "http/protobuf" ? "too many" : "2 data points rejected",
      );
      await exporter.shutdown();
    }
  });

  it("fails without throwing when the collector refuses, and the reader counts it", async () => {
    await using collector = await FakeCollector.start(() => ({ status: 400 }));
    const diagnostics: string[] = [];
    const exporter = new OtlpHttpMetricExporter({
      env: () => undefined,
      endpoint: collector.url("/v1/metrics"),
      diagnostics: () => {},
    });
    const reader = new PeriodicExportingMetricReader(exporter, {
      env: () => undefined,
      diagnostics: (d) => diagnostics.push(d.message),
    });
    const provider = new MeterProvider({
      env: () => undefined,
      readers: [reader],
    });
    provider.getMeter("app").createCounter("c").add(1);
    await provider.shutdown();
    assert.equal(reader.stats.exportFailures, 1);
    assert.match(diagnostics[0], /Metric export failed/);
  });
});
