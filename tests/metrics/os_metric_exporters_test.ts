// The export loop the user_events and ETW metric exporters share
// (processors/_metric_points.ts), through both exporters over their
// recording fakes: hostile collections never throw, every data point lands
// in exactly one counter, and a listener leaving mid-export is counted.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Resource } from "../../pipeline/mod.ts";
import {
  ManualMetricReader,
  MeterProvider,
  type ResourceMetrics,
} from "../../pipeline/metrics/mod.ts";
import { EtwMetricExporter } from "../../processors/etw/mod.ts";
import { UserEventsMetricExporter } from "../../processors/user_events/mod.ts";
import { decodeMetrics } from "../otlp/_decoder.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";

async function collection(): Promise<ResourceMetrics> {
  const reader = new ManualMetricReader({ temporalityPreference: "delta" });
  const provider = new MeterProvider({
    env: () => undefined,
    resource: new Resource({ "service.name": "svc" }),
    readers: [reader],
  });
  const c = provider.getMeter("lib").createCounter("c", { valueType: "int" });
  for (let i = 0; i < 4; i++) c.add(i + 1, { i });
  return (await reader.collect()).resourceMetrics;
}

function hostile(): unknown[] {
  const throwing = {
    get scopeMetrics(): never {
      throw new Error("scopeMetrics getter");
    },
  };
  let reads = 0;
  const changing = {
    resource: new Resource({}),
    get scopeMetrics() {
      // Fine while the points are counted, then it throws.
      if (reads++ > 0) throw new Error("second read");
      return [{
        scope: { name: "s" },
        metrics: [{
          descriptor: {
            name: "m",
            description: "",
            unit: "",
            type: "counter",
            valueType: "int",
          },
          dataPointType: "sum",
          aggregationTemporality: "delta",
          isMonotonic: true,
          dataPoints: [{ attributes: {}, value: 1, exemplars: [] }],
        }],
      }];
    },
  };
  const badPoint = {
    resource: new Resource({}),
    scopeMetrics: [{
      scope: { name: "s" },
      metrics: [{
        descriptor: {
          name: "m",
          description: "",
          unit: "",
          type: "counter",
          valueType: "int",
        },
        dataPointType: "sum",
        aggregationTemporality: "delta",
        isMonotonic: true,
        dataPoints: [
          {
            get attributes() {
              throw new Error("attributes");
            },
            value: 1,
            exemplars: [],
          },
          { attributes: { ok: true }, value: 2, exemplars: [] },
        ],
      }],
    }],
  };
  return [
    null,
    undefined,
    42,
    "x",
    {},
    { scopeMetrics: null },
    throwing,
    changing,
    badPoint,
  ];
}

describe("OS metric exporters: the shared export loop", () => {
  it("ETW: hostile collections fail the export without throwing; counters add up", async () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const exporter = new EtwMetricExporter(fake, { diagnostics: () => {} });
    for (const h of hostile()) {
      const r = await exporter.export(
        h as ResourceMetrics,
        new AbortController().signal,
      );
      assert.ok(r.code === "success" || r.code === "failure");
    }
    const s = exporter.stats;
    assert.equal(
      s.dataPoints,
      s.written + s.notEnabled + s.droppedTooLarge + s.droppedWriteError,
    );
    // The bad point's neighbour is written and decodes.
    assert.equal(s.written, 1);
    const decoded = decodeMetrics(fake.writes.at(-1)!.blobs[2].bytes);
    assert.equal(
      decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0]
        .asInt,
      "2",
    );
    // A good collection still goes through whole.
    await exporter.export(await collection(), new AbortController().signal);
    assert.equal(exporter.stats.written, 5);
  });

  it("user_events: hostile collections fail without throwing; a listener leaving mid-export is counted as not enabled", async () => {
    const libc = new FakeLibc();
    using exporter = new UserEventsMetricExporter(libc, {
      diagnostics: () => {},
    });
    libc.enable("otlp_metrics");
    for (const h of hostile()) {
      await exporter.export(h as ResourceMetrics, new AbortController().signal);
    }
    let s = exporter.stats;
    assert.equal(
      s.dataPoints,
      s.written + s.notEnabled + s.droppedTooLarge + s.droppedWriteError,
    );
    assert.equal(s.written, 1);
    // EBADF on the second write: the listener left.
    libc.writeResults = [0, -9];
    const before = exporter.stats;
    await exporter.export(await collection(), new AbortController().signal);
    s = exporter.stats;
    assert.equal(s.written - before.written, 3);
    assert.equal(s.notEnabled - before.notEnabled, 1);
    // No listener at all: nothing encoded, all counted.
    libc.enable("otlp_metrics", false);
    const writes = libc.writes.length;
    await exporter.export(await collection(), new AbortController().signal);
    assert.equal(libc.writes.length, writes);
    assert.equal(exporter.stats.notEnabled - s.notEnabled, 4);
  });
});
