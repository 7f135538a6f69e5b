// The OTLP/HTTP exporters against a real HTTP server on loopback: what
// arrives is decoded by protobufjs (or JSON.parse, after a standard gunzip)
// and compared field by field; faults are injected by the server.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BatchLogRecordProcessor,
  BatchSpanProcessor,
  type Diagnostic,
  InMemoryExporter,
  LoggerProvider,
  type LogRecordData,
  type ReadableSpan,
  Resource,
  SimpleLogRecordProcessor,
  SimpleSpanProcessor,
  type SpanKind,
  TracerProvider,
} from "../../mod.ts";
import {
  type OtlpHttpExporterOptions,
  OtlpHttpLogExporter,
  OtlpHttpSpanExporter,
} from "../../exporters/otlp/mod.ts";
import { closedPort, FakeCollector, type ReceivedRequest } from "./_server.ts";
import {
  type Decoded,
  decodeLogs,
  decodeTrace,
  encodeResponse,
  LogsResponse,
  TraceResponse,
} from "./_decoder.ts";
import {
  assertLogsRequest,
  assertResource,
  assertScope,
  assertSpan,
  jsonToDecoded,
} from "./_expect.ts";

const noEnv = () => undefined;
const FAST_RETRY = {
  maxAttempts: 5,
  initialBackoffMillis: 20,
  maxBackoffMillis: 50,
  jitter: 0.2,
};

function collect(): {
  diagnostics: Diagnostic[];
  sink: (d: Diagnostic) => void;
} {
  const diagnostics: Diagnostic[] = [];
  return { diagnostics, sink: (d) => diagnostics.push(d) };
}

async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function logRecordsOf(request: ReceivedRequest): Decoded[] {
  const decoded = decodeLogs(request.body);
  return (decoded.resourceLogs ?? []).flatMap((r: Decoded) =>
    r.scopeLogs.flatMap((s: Decoded) => s.logRecords)
  );
}

/** A provider whose records go to the OTLP exporter and, as resolved data, to memory. */
function logPipeline(
  options: OtlpHttpExporterOptions,
  batch: ConstructorParameters<typeof BatchLogRecordProcessor>[1] = {},
) {
  const { diagnostics, sink } = collect();
  const exporter = new OtlpHttpLogExporter({
    env: noEnv,
    diagnostics: sink,
    retry: FAST_RETRY,
    ...options,
  });
  const processor = new BatchLogRecordProcessor(exporter, {
    env: noEnv,
    diagnostics: sink,
    scheduledDelayMillis: 5,
    ...batch,
  });
  const memory = new InMemoryExporter<LogRecordData>();
  const provider = new LoggerProvider({
    env: noEnv,
    resource: new Resource({
      "service.name": "otlp-test",
      "deployment.environment.name": "test",
    }),
    processors: [
      processor,
      new SimpleLogRecordProcessor(memory, { maxQueueSize: 100_000 }),
    ],
  });
  return { exporter, processor, memory, provider, diagnostics };
}

function emitMany(provider: LoggerProvider, count: number): void {
  const logger = provider.getLogger("otlp-test", "1.2.3");
  const other = provider.getLogger("other-scope");
  for (let i = 0; i < count; i++) {
    (i % 3 === 0 ? other : logger).emit({
      timestamp: 1_700_000_000_000_000_000n + BigInt(i * 1024),
      severityNumber: 1 + (i % 24),
      severityText: i % 2 === 0 ? "INFO" : undefined,
      body: i % 4 === 0
        ? {
          message: `record ${i}`,
          n: i,
          ok: true,
          raw: new Uint8Array([i & 0xff]),
        }
        : `record ${i} ✓`,
      attributes: {
        index: i,
        ratio: i / 7,
        tags: ["a", "b"],
        big: 9007199254740993n,
      },
      eventName: i % 5 === 0 ? "app.event" : undefined,
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
    });
  }
}

describe("OtlpHttpLogExporter", () => {
  it("POSTs protobuf batches to /v1/logs that protobufjs decodes field by field", async () => {
    await using collector = await FakeCollector.start();
    const { processor, memory, provider } = logPipeline(
      { endpoint: collector.url("/v1/logs"), headers: { "x-tenant": "blue" } },
      { maxExportBatchSize: 100 },
    );
    emitMany(provider, 250);
    await provider.forceFlush();
    await provider.shutdown();
    assert.ok(collector.requests.length >= 3, "batches of at most 100");
    // Up to maxConcurrentExports requests are in flight at once, so they
    // may arrive out of order: each request's records are found by their
    // timestamps (emitMany's record i is at base + i * 1024 ns), and the
    // requests must tile the 250 records exactly, in order within each.
    const spans: [number, number][] = [];
    for (const request of collector.requests) {
      assert.equal(request.method, "POST");
      assert.equal(request.path, "/v1/logs");
      assert.equal(request.headers["content-type"], "application/x-protobuf");
      assert.equal(
        request.headers["user-agent"],
        "OTel-OTLP-Exporter-JavaScript/0.1.0 seed-telemetry/0.1.0",
      );
      assert.equal(request.headers["x-tenant"], "blue");
      assert.equal(request.headers["content-encoding"], undefined);
      const records = logRecordsOf(request);
      const first = Number(
        (records.map((r) => BigInt(r.timeUnixNano)).reduce((a, b) =>
          a < b ? a : b
        ) - 1_700_000_000_000_000_000n) / 1024n,
      );
      assertLogsRequest(
        decodeLogs(request.body),
        memory.items.slice(first, first + records.length),
      );
      spans.push([first, records.length]);
    }
    spans.sort((a, b) => a[0] - b[0]);
    let offset = 0;
    for (const [first, count] of spans) {
      assert.equal(first, offset, "no record sent twice or skipped");
      assert.ok(count <= 100, "batches of at most 100");
      offset += count;
    }
    assert.equal(offset, 250);
    assert.equal(processor.stats.exported, 250);
  });

  it("sends gzip-compressed OTLP/JSON that a standard gunzip and JSON.parse read back", async () => {
    await using collector = await FakeCollector.start();
    const { memory, provider } = logPipeline({
      endpoint: collector.url("/custom/logs"),
      protocol: "http/json",
      compression: "gzip",
    });
    emitMany(provider, 40);
    await provider.shutdown();
    assert.equal(collector.requests.length, 1);
    const request = collector.requests[0];
    assert.equal(request.path, "/custom/logs");
    assert.equal(request.headers["content-encoding"], "gzip");
    assert.equal(request.headers["content-type"], "application/json");
    assert.ok(
      request.raw.length < request.body.length,
      "the body was compressed",
    );
    assert.deepEqual(
      [...request.raw.subarray(0, 2)],
      [0x1f, 0x8b],
      "gzip magic",
    );
    // RFC 1952 XFL: 4 = "compressor used fastest algorithm" (zlib level 1).
    assert.equal(request.raw[8], 4, "gzip at the fastest level");
    const json = JSON.parse(new TextDecoder().decode(request.body));
    assert.equal(
      typeof json.resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano,
      "string",
    );
    assertLogsRequest(jsonToDecoded(json), memory.items);
  });

  it("retries 503 twice, then delivers every record exactly once", async () => {
    await using collector = await FakeCollector.start((r) =>
      r.index < 2 ? { status: 503 } : { status: 200 }
    );
    const { exporter, processor, provider } = logPipeline({
      endpoint: collector.url("/v1/logs"),
    });
    emitMany(provider, 30);
    await provider.shutdown();
    assert.equal(collector.requests.length, 3);
    assert.deepEqual(
      collector.requests[1].body,
      collector.requests[0].body,
      "the same batch is resent",
    );
    const received = logRecordsOf(collector.requests[2]).length;
    assert.equal(received, 30);
    assert.equal(exporter.stats.retries, 2);
    const s = processor.stats;
    assert.equal(s.exported, 30);
    assert.equal(received + s.dropped + s.failed, 30);
  });

  it("waits at least Retry-After seconds after a 429", async () => {
    await using collector = await FakeCollector.start((r) =>
      r.index === 0
        ? { status: 429, headers: { "retry-after": "1" } }
        : { status: 200 }
    );
    const { processor, provider } = logPipeline({
      endpoint: collector.url("/v1/logs"),
    });
    emitMany(provider, 5);
    await provider.shutdown();
    assert.equal(collector.requests.length, 2);
    const gap = collector.requests[1].receivedAt - collector.repliedAt[0];
    assert.ok(
      gap >= 1000,
      `next attempt came ${
        gap.toFixed(1)
      } ms after the 429 (backoff alone is 20 ms)`,
    );
    assert.equal(processor.stats.exported, 5);
  });

  it("retries after the connection is reset mid-request", async () => {
    await using collector = await FakeCollector.start((r) =>
      r.index === 0 ? "reset" : { status: 200 }
    );
    const { exporter, processor, provider } = logPipeline({
      endpoint: collector.url("/v1/logs"),
    });
    emitMany(provider, 10);
    await provider.shutdown();
    assert.equal(collector.requests.length, 2);
    assert.equal(logRecordsOf(collector.requests[1]).length, 10);
    assert.equal(exporter.stats.retries, 1);
    assert.equal(processor.stats.exported, 10);
    assert.equal(processor.stats.failed, 0);
  });

  it("aborts a request that stalls past the timeout and retries it", async () => {
    await using collector = await FakeCollector.start((r) =>
      r.index === 0 ? "stall" : { status: 200 }
    );
    const { exporter, processor, provider, diagnostics } = logPipeline({
      endpoint: collector.url("/v1/logs"),
      timeoutMillis: 200,
    });
    emitMany(provider, 10);
    await provider.shutdown();
    assert.equal(collector.requests.length, 2);
    assert.equal(exporter.stats.retries, 1);
    assert.equal(processor.stats.exported, 10);
    assert.deepEqual(diagnostics, []);
  });

  it("does not retry a 400 and counts the batch as failed, with the server's message", async () => {
    const status = new Uint8Array([
      0x08,
      0x03,
      0x12,
      0x08,
      ...new TextEncoder().encode("bad data"),
    ]);
    await using collector = await FakeCollector.start(() => ({
      status: 400,
      headers: { "content-type": "application/x-protobuf" },
      body: status,
    }));
    const { exporter, processor, provider, diagnostics } = logPipeline({
      endpoint: collector.url("/v1/logs"),
    });
    emitMany(provider, 12);
    await provider.shutdown();
    assert.equal(collector.requests.length, 1);
    assert.equal(exporter.stats.retries, 0);
    const s = processor.stats;
    assert.equal(s.failed, 12);
    assert.equal(s.exportFailures, 1);
    assert.equal(s.exported + s.dropped + s.failed, 12);
    const failure = diagnostics.find((d) => d.level === "error");
    assert.ok(failure, "one error diagnostic");
    assert.match(failure.message, /HTTP 400 \(bad data\); not retrying/);
  });

  it("reports a partial success's rejected count through the processor's counters", async () => {
    const body = encodeResponse(LogsResponse, {
      partialSuccess: { rejectedLogRecords: 2, errorMessage: "too old" },
    });
    await using collector = await FakeCollector.start(() => ({
      status: 200,
      headers: { "content-type": "application/x-protobuf" },
      body,
    }));
    const { processor, provider, diagnostics } = logPipeline({
      endpoint: collector.url("/v1/logs"),
    });
    emitMany(provider, 8);
    await provider.shutdown();
    assert.equal(processor.stats.exported, 8);
    assert.equal(processor.stats.rejected, 2);
    assert.ok(
      diagnostics.some((d) => /rejected 2 of 8 items: too old/.test(d.message)),
    );
  });

  it("reads a JSON partial success when speaking OTLP/JSON", async () => {
    await using collector = await FakeCollector.start(() => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        partialSuccess: { rejectedLogRecords: "3", errorMessage: "schema" },
      }),
    }));
    const { processor, provider } = logPipeline({
      endpoint: collector.url("/v1/logs"),
      protocol: "http/json",
    });
    emitMany(provider, 4);
    await provider.shutdown();
    assert.equal(processor.stats.rejected, 3);
  });

  it("keeps emit synchronous and counts drops while the collector is down", async () => {
    const port = await closedPort();
    const { exporter, processor, provider } = logPipeline(
      {
        endpoint: `http://127.0.0.1:${port}/v1/logs`,
        retry: {
          maxAttempts: 3,
          initialBackoffMillis: 5,
          maxBackoffMillis: 10,
        },
      },
      { maxQueueSize: 50, maxExportBatchSize: 10 },
    );
    const logger = provider.getLogger("down");
    const emitted = 2000;
    for (let i = 0; i < emitted; i++) {
      const returned: unknown = logger.emit({
        body: `record ${i}`,
        severityNumber: 9,
      });
      assert.equal(returned, undefined); // no Promise: emit never waits
    }
    assert.ok(
      processor.stats.dropped >= emitted - 50 - 10 * 4,
      "the queue filled and drops were counted",
    );
    await provider.shutdown();
    const s = processor.stats;
    assert.equal(s.exported, 0);
    assert.ok(s.failed > 0);
    assert.equal(s.exported + s.dropped + s.failed, emitted);
    assert.ok(
      exporter.stats.attempts >= 3 * s.exportFailures,
      "each failed export was retried",
    );
  });

  it("never puts header values into diagnostics or errors", async () => {
    const secret = "s3cr3t-t0ken";
    const port = await closedPort();
    const { diagnostics, sink } = collect();
    const vars: Record<string, string> = {
      OTEL_EXPORTER_OTLP_HEADERS:
        `authorization=Bearer%20${secret},x-bad=${secret}%0Amore`,
    };
    const exporter = new OtlpHttpLogExporter({
      env: (name) => vars[name],
      diagnostics: sink,
      endpoint: `http://127.0.0.1:${port}/v1/logs?token=${secret}`,
      headers: { "x-api-key": secret },
      retry: { maxAttempts: 2, initialBackoffMillis: 1 },
    });
    const processor = new SimpleLogRecordProcessor(exporter, {
      diagnostics: sink,
    });
    const provider = new LoggerProvider({
      env: noEnv,
      processors: [processor],
    });
    provider.getLogger("secret").emit({ body: "x" });
    await provider.shutdown();
    assert.equal(processor.stats.failed, 1);
    assert.ok(
      diagnostics.length >= 2,
      "the bad header and the failure were reported",
    );
    const seen = (value: unknown, depth = 0): string => {
      if (depth > 4 || value === undefined || value === null) return "";
      if (value instanceof Error) {
        return `${value.message} ${value.stack ?? ""} ${
          seen(value.cause, depth + 1)
        }`;
      }
      return String(value);
    };
    for (const d of diagnostics) {
      const text = `${d.message} ${seen(d.cause)}`;
      assert.ok(
        !text.includes(secret),
        `diagnostic leaks a secret: ${d.message}`,
      );
    }
  });

  it("bounds exports in flight and lets shutdown abort what is still running", async () => {
    await using collector = await FakeCollector.start(() => "stall");
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      endpoint: collector.url("/v1/logs"),
      maxConcurrentExports: 1,
      shutdownTimeoutMillis: 100,
      timeoutMillis: 60_000,
    });
    const batch = await oneRecord();
    const never = new AbortController().signal;
    const first = exporter.export(batch, never);
    const second = exporter.export(batch, never);
    await until(() => collector.requests.length === 1, "the first request");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(
      collector.requests.length,
      1,
      "the second export waits for a slot",
    );
    assert.equal(exporter.stats.inFlight, 2);
    await exporter.shutdown();
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.code, "failure");
    assert.equal(b.code, "failure");
    assert.match(a.code === "failure" ? a.error!.message : "", /aborted/);
    assert.equal(collector.requests.length, 1);
    const after = await exporter.export(batch, never);
    assert.equal(after.code === "failure" && after.retryable, false);
  });

  it("lets shutdown wait for an export in flight that finishes in time", async () => {
    await using collector = await FakeCollector.start(() => ({
      status: 200,
      delayMs: 150,
    }));
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      endpoint: collector.url("/v1/logs"),
      shutdownTimeoutMillis: 10_000,
    });
    const pending = exporter.export(
      await oneRecord(),
      new AbortController().signal,
    );
    await until(() => collector.requests.length === 1, "the request");
    await exporter.shutdown();
    assert.equal(exporter.stats.inFlight, 0);
    assert.deepEqual(await pending, { code: "success" });
  });

  it("gives up at once when Retry-After would end past the retry budget", async () => {
    await using collector = await FakeCollector.start(() => ({
      status: 503,
      headers: { "retry-after": "3600" },
    }));
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      endpoint: collector.url("/v1/logs"),
      retry: { maxElapsedMillis: 5000 },
    });
    const result = await exporter.export(
      await oneRecord(),
      new AbortController().signal,
    );
    assert.equal(result.code, "failure");
    assert.equal(result.code === "failure" && result.retryable, true);
    assert.match(
      result.code === "failure" ? result.error!.message : "",
      /HTTP 503.*maxElapsedMillis/,
    );
    assert.equal(collector.requests.length, 1);
    await exporter.shutdown();
  });

  it("stops retrying when the processor's signal aborts", async () => {
    await using collector = await FakeCollector.start(() => ({ status: 503 }));
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      endpoint: collector.url("/v1/logs"),
      retry: {
        maxAttempts: 1000,
        initialBackoffMillis: 20,
        maxBackoffMillis: 20,
      },
    });
    const controller = new AbortController();
    const pending = exporter.export(await oneRecord(), controller.signal);
    await until(() => collector.requests.length >= 2, "a retry");
    controller.abort(new Error("processor timeout"));
    const result = await pending;
    assert.equal(result.code, "failure");
    await new Promise((resolve) => setTimeout(resolve, 30)); // let a request already on the wire land
    const count = collector.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(
      collector.requests.length,
      count,
      "no request after the abort",
    );
    await exporter.shutdown();
  });
  it("never rewrites the bytes of a request still in flight (protobuf bodies come from reused buffers)", async () => {
    // A fetch that keeps each body by reference, as a lazy transport could,
    // and answers only when the test says so.
    const bodies: Uint8Array[] = [];
    const answers: (() => void)[] = [];
    const fetch = ((_url: unknown, init?: RequestInit) => {
      bodies.push(init?.body as Uint8Array);
      return new Promise<Response>((resolve) =>
        answers.push(() => resolve(new Response(null, { status: 200 })))
      );
    }) as typeof globalThis.fetch;
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      endpoint: "http://127.0.0.1:4318",
      protocol: "http/protobuf",
      compression: "none",
      maxConcurrentExports: 2,
      fetch,
    });
    const never = new AbortController().signal;
    const a = await recordsWithBodies("a", 3);
    const b = await recordsWithBodies("b", 40);
    const c = await recordsWithBodies("c", 2);
    const first = exporter.export(a, never);
    const second = exporter.export(b, never);
    await until(() => bodies.length === 2, "two requests in flight");
    assert.deepEqual(bodiesIn(bodies[0]), ["a0", "a1", "a2"]);
    answers[0]();
    assert.deepEqual(await first, { code: "success" });
    // The first request is over: its buffer may be written again, never the
    // second's, which is still in flight.
    const third = exporter.export(c, never);
    await until(() => bodies.length === 3, "the third request");
    assert.deepEqual(bodiesIn(bodies[1]), b.map((r) => r.body));
    assert.deepEqual(bodiesIn(bodies[2]), ["c0", "c1"]);
    answers[1]();
    answers[2]();
    assert.deepEqual(await Promise.all([second, third]), [
      { code: "success" },
      { code: "success" },
    ]);
    await exporter.shutdown();
  });
});

function bodiesIn(bytes: Uint8Array): unknown[] {
  return decodeLogs(bytes).resourceLogs.flatMap((r: Decoded) =>
    r.scopeLogs.flatMap((s: Decoded) =>
      s.logRecords.map((l: Decoded) => l.body.stringValue)
    )
  );
}

async function recordsWithBodies(
  prefix: string,
  count: number,
): Promise<LogRecordData[]> {
  const memory = new InMemoryExporter<LogRecordData>();
  const provider = new LoggerProvider({
    env: noEnv,
    processors: [new SimpleLogRecordProcessor(memory)],
  });
  const logger = provider.getLogger("bodies");
  for (let i = 0; i < count; i++) logger.emit({ body: prefix + i });
  await provider.shutdown();
  return memory.items;
}

async function oneRecord(): Promise<LogRecordData[]> {
  const memory = new InMemoryExporter<LogRecordData>();
  const provider = new LoggerProvider({
    env: noEnv,
    processors: [new SimpleLogRecordProcessor(memory)],
  });
  provider.getLogger("one").emit({ body: "one", severityNumber: 9 });
  await provider.shutdown();
  return memory.items;
}

describe("OtlpHttpSpanExporter", () => {
  it("POSTs gzip protobuf batches to /v1/traces that protobufjs decodes field by field", async () => {
    await using collector = await FakeCollector.start();
    const { sink } = collect();
    const exporter = new OtlpHttpSpanExporter({
      env: noEnv,
      diagnostics: sink,
      endpoint: collector.url("/v1/traces"),
      compression: "gzip",
    });
    const processor = new BatchSpanProcessor(exporter, {
      env: noEnv,
      scheduledDelayMillis: 5,
      diagnostics: sink,
    });
    const memory = new InMemoryExporter<ReadableSpan>();
    const provider = new TracerProvider({
      env: noEnv,
      resource: new Resource({ "service.name": "spans" }),
      processors: [processor, new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer("tracer", "0.0.1");
    for (let i = 0; i < 20; i++) {
      const span = tracer.startSpan(`op-${i}`, {
        kind: (i % 5) as SpanKind,
        attributes: { i },
      });
      span.addEvent("tick", { i });
      span.setStatus({
        code: i % 3 === 0 ? 2 : 1,
        message: i % 3 === 0 ? "failed" : undefined,
      });
      span.end();
    }
    await provider.shutdown();
    assert.equal(collector.requests.length, 1);
    const request = collector.requests[0];
    assert.equal(request.path, "/v1/traces");
    assert.equal(request.headers["content-encoding"], "gzip");
    const decoded = decodeTrace(request.body);
    assertResource(decoded.resourceSpans[0], memory.items[0].resource);
    const scopeSpans = decoded.resourceSpans[0].scopeSpans[0];
    assertScope(scopeSpans, memory.items[0].scope);
    assert.equal(scopeSpans.spans.length, 20);
    memory.items.forEach((span, i) => assertSpan(scopeSpans.spans[i], span, i));
    assert.equal(processor.stats.exported, 20);
  });

  it("reports rejected spans from a partial success", async () => {
    const body = encodeResponse(TraceResponse, {
      partialSuccess: { rejectedSpans: 1, errorMessage: "dup" },
    });
    await using collector = await FakeCollector.start(() => ({
      status: 200,
      headers: { "content-type": "application/x-protobuf" },
      body,
    }));
    const exporter = new OtlpHttpSpanExporter({
      env: noEnv,
      endpoint: collector.url("/v1/traces"),
    });
    const memory = new InMemoryExporter<ReadableSpan>();
    const provider = new TracerProvider({
      env: noEnv,
      processors: [new SimpleSpanProcessor(memory)],
    });
    provider.getTracer("t").startSpan("s").end();
    await provider.shutdown();
    const result = await exporter.export(
      memory.items,
      new AbortController().signal,
    );
    assert.deepEqual(result, { code: "success", rejected: 1, message: "dup" });
    assert.equal(exporter.stats.rejected, 1);
    await exporter.shutdown();
  });
});
