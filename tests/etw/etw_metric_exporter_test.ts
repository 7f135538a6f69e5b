import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ETW_METRICS_PROVIDER,
  EtwMetricExporter,
} from "../../processors/etw/mod.ts";
import {
  ManualMetricReader,
  MeterProvider,
  type ResourceMetrics,
} from "../../pipeline/metrics/mod.ts";
import { Resource } from "../../pipeline/mod.ts";
import {
  encodeProviderTraits,
  parseGuid,
} from "../../processors/_tracelogging.ts";
import { decodeMetrics } from "../otlp/_decoder.ts";
import { FakeAdvapi32, hex } from "./_fake_advapi32.ts";

async function collection(): Promise<ResourceMetrics> {
  const reader = new ManualMetricReader({ temporalityPreference: "delta" });
  const provider = new MeterProvider({
    env: () => undefined,
    resource: new Resource({ "service.name": "svc" }),
    readers: [reader],
  });
  const meter = provider.getMeter("lib", "1.0");
  const c = meter.createCounter("requests", { valueType: "int" });
  c.add(2, { route: "/a" });
  c.add(5, { route: "/b" });
  meter.createHistogram("latency", {
    advice: { explicitBucketBoundaries: [1] },
  }).record(0.5);
  return (await reader.collect()).resourceMetrics;
}

describe("EtwMetricExporter", () => {
  it("registers NativeMetricsExtension_Provider by its fixed GUID", () => {
    const fake = new FakeAdvapi32();
    const exporter = new EtwMetricExporter(fake, { diagnostics: () => {} });
    assert.deepEqual(
      fake.registeredIds[0],
      parseGuid("EDC24920-E004-40F6-A8E1-0E6E48F39D84"),
    );
    // GUID memory order: Data1..3 little-endian.
    assert.equal(
      hex(fake.registeredIds[0]),
      "20 49 c2 ed 04 e0 f6 40 a8 e1 0e 6e 48 f3 9d 84",
    );
    assert.deepEqual(
      fake.traits[0].bytes,
      encodeProviderTraits("NativeMetricsExtension_Provider"),
    );
    assert.equal(exporter.temporalityPreference, "delta");
    assert.equal(exporter.stats.registered, true);
  });

  it("writes one otlp_metrics event per data point: id 81 v0 level 4 keyword 1, raw protobuf payload", async () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const exporter = new EtwMetricExporter(fake, { diagnostics: () => {} });
    const metrics = await collection();
    const result = await exporter.export(metrics, new AbortController().signal);
    assert.equal(result.code, "success");
    assert.equal(fake.writes.length, 3);
    assert.deepEqual(exporter.stats, {
      dataPoints: 3,
      written: 3,
      notEnabled: 0,
      droppedTooLarge: 0,
      droppedWriteError: 0,
      registered: true,
    });
    const q = fake.enabledQueries.at(-1)!;
    assert.deepEqual([q.level, q.keyword], [4, 1n]);
    const seen: string[] = [];
    for (const write of fake.writes) {
      // EVENT_DESCRIPTOR: Id 81, Version 0, Channel 11, Level 4, Opcode 0, Task 0, Keyword 1.
      assert.equal(
        hex(write.descriptor),
        "51 00 00 0b 04 00 00 00 01 00 00 00 00 00 00 00",
      );
      assert.equal(write.count, 3);
      assert.deepEqual(write.blobs.map((b) => b.type), [2, 1, 0]);
      assert.deepEqual(
        write.blobs[0].bytes,
        encodeProviderTraits(ETW_METRICS_PROVIDER.name),
      );
      // Metadata: size 16, tags 0, "otlp_metrics\0", no field.
      assert.equal(
        hex(write.blobs[1].bytes),
        "10 00 00 6f 74 6c 70 5f 6d 65 74 72 69 63 73 00",
      );
      const decoded = decodeMetrics(write.blobs[2].bytes);
      const rm = decoded.resourceMetrics;
      assert.equal(rm.length, 1);
      const ms = rm[0].scopeMetrics[0].metrics;
      assert.equal(ms.length, 1);
      const m = ms[0];
      if (m.sum) {
        assert.equal(m.sum.dataPoints.length, 1);
        assert.equal(m.sum.aggregationTemporality, 1);
        seen.push(`${m.name}=${m.sum.dataPoints[0].asInt}`);
      } else {
        assert.equal(m.histogram.dataPoints.length, 1);
        seen.push(`${m.name}:${m.histogram.dataPoints[0].count}`);
      }
    }
    assert.deepEqual(seen, ["requests=2", "requests=5", "latency:1"]);
  });

  it("writes nothing without a session, counts oversize points and failed writes", async () => {
    const fake = new FakeAdvapi32();
    const diagnostics: string[] = [];
    const exporter = new EtwMetricExporter(fake, {
      maxEventBytes: 64,
      diagnostics: (d) => diagnostics.push(d.message),
    });
    const metrics = await collection();
    await exporter.export(metrics, new AbortController().signal);
    assert.equal(fake.writes.length, 0);
    assert.equal(exporter.stats.notEnabled, 3);
    fake.enabledAnswer = 1;
    const tooLarge = await exporter.export(
      metrics,
      new AbortController().signal,
    );
    assert.equal(tooLarge.code, "failure");
    assert.equal(exporter.stats.droppedTooLarge, 3);
    const roomy = new EtwMetricExporter(fake, {
      diagnostics: (d) => diagnostics.push(d.message),
    });
    fake.writeStatus = 8;
    await roomy.export(metrics, new AbortController().signal);
    await roomy.export(metrics, new AbortController().signal);
    assert.equal(roomy.stats.droppedWriteError, 6);
    assert.equal(diagnostics.filter((d) => /Win32 error 8/.test(d)).length, 1);
  });

  it("forceEnabled writes without asking EventProviderEnabled; only `true` forces", async () => {
    const fake = new FakeAdvapi32(); // enabledAnswer 0: no session
    const forced = new EtwMetricExporter(fake, {
      forceEnabled: true,
      diagnostics: () => {},
    });
    await forced.export(await collection(), new AbortController().signal);
    assert.equal(forced.stats.written, 3);
    assert.equal(fake.enabledQueries.length, 0);
    assert.equal(fake.writes.length, 3);
    const notForced = new EtwMetricExporter(fake, {
      forceEnabled: "yes" as unknown as boolean,
      diagnostics: () => {},
    });
    await notForced.export(await collection(), new AbortController().signal);
    assert.equal(notForced.stats.notEnabled, 3);
    assert.equal(fake.enabledQueries.length, 1);
    forced[Symbol.dispose]();
    assert.equal(forced.enabled, false, "not registered any more");
  });

  it("unregisters once, and is a counted no-op without a binding", async () => {
    const fake = new FakeAdvapi32();
    const exporter = new EtwMetricExporter(fake, { diagnostics: () => {} });
    exporter[Symbol.dispose]();
    await exporter.shutdown();
    assert.equal(fake.unregistered.length, 1);
    assert.equal(exporter.enabled, false);
    const diagnostics: string[] = [];
    const none = new EtwMetricExporter(null, {
      diagnostics: (d) => diagnostics.push(d.message),
    });
    await none.export(await collection(), new AbortController().signal);
    assert.equal(none.stats.notEnabled, 3);
    assert.match(diagnostics[0], /EtwMetricExporter disabled/);
    assert.throws(
      () => new EtwMetricExporter(null, { maxEventBytes: 70000 }),
      /maxEventBytes/,
    );
  });
});
