// The user_events metric exporter on a real kernel (inside the test VM):
// the otlp_metrics tracepoint as the Rust crate registers it, and events
// read back from the ftrace ring that decode as ExportMetricsServiceRequest.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { openLibc } from "../../ffi/load_libc.ts";
import {
  OTLP_METRICS_TRACEPOINT,
  UserEventsMetricExporter,
} from "../../processors/user_events/mod.ts";
import {
  ManualMetricReader,
  MeterProvider,
} from "../../pipeline/metrics/mod.ts";
import { Resource } from "../../pipeline/mod.ts";
import { decodeMetrics } from "../otlp/_decoder.ts";
import {
  clearTrace,
  drainRawEvents,
  eventId,
  setEnable,
  SKIP,
  statusNames,
  TRACEFS,
  waitFor,
} from "./_tracefs.ts";

describe("UserEventsMetricExporter on a real kernel", () => {
  it("registers otlp_metrics and writes one decodable request per data point", {
    skip: SKIP,
  }, async () => {
    const libc = await openLibc();
    const diagnostics: string[] = [];
    using exporter = new UserEventsMetricExporter(libc, {
      diagnostics: (d) => diagnostics.push(d.message),
    });
    assert.deepEqual(diagnostics, []);
    assert.ok(statusNames().includes("otlp_metrics"), "registered");
    const format = readFileSync(
      `${TRACEFS}/events/user_events/otlp_metrics/format`,
      "utf8",
    );
    // Offsets and sizes after the 8-byte common header. (6.12 prints the
    // array lengths of "char[8] version" and of "__rel_loc u8[] buffer" as
    // garbage at times, e.g. version[1919247974] and buffer[290]; the sizes
    // are right.)
    assert.match(format, /field:u32 protocol;\toffset:8;\tsize:4;/);
    assert.match(format, /field:char version\[\d+\];\toffset:12;\tsize:8;/);
    assert.match(
      format,
      /field:__rel_loc u8 buffer\[\d*\];\toffset:20;\tsize:4;/,
    );
    assert.equal(
      OTLP_METRICS_TRACEPOINT,
      "otlp_metrics u32 protocol;char[8] version;__rel_loc u8[] buffer;",
    );

    const reader = new ManualMetricReader({
      temporalityPreference: exporter.temporalityPreference,
    });
    const provider = new MeterProvider({
      env: () => undefined,
      resource: new Resource({ "service.name": "vm" }),
      readers: [reader],
    });
    const meter = provider.getMeter("kernel-test");
    const counter = meter.createCounter("requests", { valueType: "int" });
    counter.add(3, { route: "/a" });
    counter.add(4, { route: "/b" });
    meter.createHistogram("latency").record(12);

    // Not enabled: nothing written, one read of the enable word.
    await exporter.export(
      (await reader.collect()).resourceMetrics,
      new AbortController().signal,
    );
    assert.equal(exporter.stats.notEnabled, 3);
    assert.equal(exporter.stats.written, 0);

    setEnable("otlp_metrics", true);
    try {
      clearTrace();
      assert.ok(
        await waitFor(() => exporter.enabled),
        "the kernel set the enable word",
      );
      counter.add(3, { route: "/a" });
      counter.add(4, { route: "/b" });
      meter.createHistogram("latency").record(12);
      const result = await exporter.export(
        (await reader.collect()).resourceMetrics,
        new AbortController().signal,
      );
      assert.equal(result.code, "success");
      assert.equal(exporter.stats.written, 3);
      const id = eventId("otlp_metrics");
      const events = drainRawEvents(libc).filter((e) => e.type === id);
      assert.equal(events.length, 3);
      const seen: string[] = [];
      for (const e of events) {
        const v = new DataView(
          e.payload.buffer,
          e.payload.byteOffset,
          e.payload.byteLength,
        );
        assert.equal(v.getUint32(0, true), 0, "protocol 0 = protobuf");
        assert.equal(
          new TextDecoder().decode(e.payload.subarray(4, 12)),
          "v0.19.00",
        );
        const relLoc = v.getUint32(12, true);
        const size = relLoc >>> 16;
        const offset = relLoc & 0xffff;
        const start = 16 + offset;
        const decoded = decodeMetrics(e.payload.subarray(start, start + size));
        const m = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0];
        if (m.sum) seen.push(`${m.name}=${m.sum.dataPoints[0].asInt}`);
        else {seen.push(
            `${m.name}:${m.histogram.dataPoints[0].count}:${
              m.histogram.dataPoints[0].sum
            }`,
          );}
        assert.equal(
          decoded.resourceMetrics[0].scopeMetrics[0].scope.name,
          "kernel-test",
        );
      }
      assert.deepEqual(seen.sort(), [
        "latency:1:12",
        "requests=3",
        "requests=4",
      ]);
    } finally {
      setEnable("otlp_metrics", false);
    }
  });
});
