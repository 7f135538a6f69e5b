// Windows-only: the real advapi32 binding (Deno.dlopen / bun:ffi / node:ffi) driven by
// the ETW processors. Under Wine (tests/windows/run.sh) Wine's ETW stubs log
// each call's arguments, which run.sh checks; Wine reads no bytes and always
// answers "not enabled", so these tests force writes with `forceEnabled`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openAdvapi32 } from "../../ffi/load_advapi32.ts";
import { LogEmitContext, Resource, TracerProvider } from "../../mod.ts";
import {
  ManualMetricReader,
  MeterProvider,
  type ResourceMetrics,
} from "../../pipeline/metrics/mod.ts";
import {
  ETW_METRICS_PROVIDER,
  openEtwMetricExporter,
  openEtwProcessor,
  openEtwSpanProcessor,
} from "../../processors/etw/mod.ts";
import { providerIdFromName } from "../../processors/_tracelogging.ts";

const platform = (globalThis as { process?: { platform?: string } }).process
  ?.platform;
const skip = platform === "win32"
  ? false
  : `ETW needs Windows (this is ${platform})`;
const context = new LogEmitContext(new Resource({}), { name: "windows-test" });

describe("advapi32 on Windows", { skip }, () => {
  it("registers TestProvider and hands the REGHANDLE back", async () => {
    const etw = await openAdvapi32();
    const runtime = typeof navigator === "object" &&
        navigator.userAgent.startsWith("Node.js/")
      ? "node"
      : typeof (globalThis as { Bun?: unknown }).Bun === "object"
      ? "bun"
      : "deno";
    assert.equal(etw.runtime, runtime);
    const handle = new BigUint64Array(1);
    assert.equal(
      etw.eventRegister(providerIdFromName("TestProvider"), handle),
      0,
    );
    assert.notEqual(handle[0], 0n);
    console.log(`ETW-TEST TestProvider handle=0x${handle[0].toString(16)}`);
    const arena = new Uint8Array(new ArrayBuffer(64));
    assert.ok(etw.addressOf(arena) > 0);
    assert.equal(etw.addressOf(arena.subarray(16)), etw.addressOf(arena) + 16);
    assert.equal(etw.eventUnregister(handle[0]), 0);
  });

  it("writes log records through EtwProcessor (forced) and unregisters", async () => {
    const processor = await openEtwProcessor({
      providerName: "MyCompany.MyComponent",
      forceEnabled: true,
    });
    assert.equal(processor.providerId, "ce5fa4ea-ab00-5402-8b76-9f76ac858fb5");
    assert.equal(processor.enabled(9), true); // forced: no EventProviderEnabled call
    processor.onEmit({
      severityNumber: 9,
      body: "hello from Windows",
      attributes: { n: 1, s: "é" },
    }, context);
    processor.onEmit({
      severityNumber: 17,
      body: "second",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
    }, context);
    assert.equal(processor.stats.written, 2);
    assert.equal(processor.stats.writeErrors, 0);
    await processor.shutdown();
    await processor.shutdown();
  });

  it("asks EventProviderEnabled with the level and keyword 1 when not forced", async () => {
    const processor = await openEtwProcessor({
      providerName: "MyCompany.MyComponent",
    });
    const info = processor.enabled(9); // level 4
    const error = processor.enabled(17); // level 2
    processor.onEmit({ severityNumber: 9, body: "maybe" }, context);
    const s = processor.stats;
    assert.equal(s.written + s.notEnabled, 1);
    console.log(
      `ETW-TEST enabled info=${info} error=${error} written=${s.written}`,
    );
    processor[Symbol.dispose]();
  });

  it("writes a span through EtwSpanProcessor (forced) and unregisters", async () => {
    const processor = await openEtwSpanProcessor({
      providerName: "MyProvider",
      forceEnabled: true,
    });
    {
      await using provider = new TracerProvider({ processors: [processor] });
      provider.getTracer("t").startSpan("work", {
        attributes: { "http.request.method": "GET" },
      }).end();
    }
    assert.equal(processor.stats.written, 1);
    assert.equal(processor.stats.afterShutdown, 0);
  });

  it("asks EventProviderEnabled at level 5 for spans when not forced", async () => {
    const processor = await openEtwSpanProcessor({
      providerName: "MyProvider",
    });
    {
      await using provider = new TracerProvider({ processors: [processor] });
      provider.getTracer("t").startSpan("quiet").end();
    }
    const s = processor.stats;
    assert.equal(s.written + s.notEnabled, 1);
  });

  it("writes each metric data point through EtwMetricExporter (forced) and unregisters", async () => {
    const exporter = await openEtwMetricExporter({ forceEnabled: true });
    assert.equal(exporter.stats.registered, true);
    assert.equal(ETW_METRICS_PROVIDER.eventId, 81);
    await exporter.export(
      await metricCollection(),
      new AbortController().signal,
    );
    assert.deepEqual(exporter.stats, {
      dataPoints: 3,
      written: 3,
      notEnabled: 0,
      droppedTooLarge: 0,
      droppedWriteError: 0,
      registered: true,
    });
    await exporter.shutdown();
    await exporter.shutdown();
  });

  it("asks EventProviderEnabled(level 4, keyword 1) for metrics when not forced", async () => {
    const exporter = await openEtwMetricExporter();
    await exporter.export(
      await metricCollection(),
      new AbortController().signal,
    );
    const s = exporter.stats;
    assert.equal(s.written + s.notEnabled, 3);
    exporter[Symbol.dispose]();
  });
});

/** Three data points: a counter's two series and one histogram point. */
async function metricCollection(): Promise<ResourceMetrics> {
  const reader = new ManualMetricReader({ temporalityPreference: "delta" });
  const provider = new MeterProvider({
    env: () => undefined,
    resource: new Resource({ "service.name": "windows-test" }),
    readers: [reader],
  });
  const meter = provider.getMeter("windows-test");
  const requests = meter.createCounter("requests", { valueType: "int" });
  requests.add(2, { route: "/a" });
  requests.add(5, { route: "/b" });
  meter.createHistogram("latency", { unit: "s" }).record(0.25);
  return (await reader.collect()).resourceMetrics;
}
