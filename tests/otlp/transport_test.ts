// The OTLP/HTTP transport at its edges, against real HTTP servers on
// loopback: redirects (never followed silently; configured headers never
// reach another origin), the export deadline that no retry outlives,
// diagnostics that name the runtime's cause without secrets, and the
// User-Agent a server receives.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BatchLogRecordProcessor,
  type Diagnostic,
  InMemoryExporter,
  LoggerProvider,
  type LogRecordData,
  SDK_VERSION,
  SimpleLogRecordProcessor,
} from "../../mod.ts";
import {
  type OtlpHttpExporterOptions,
  OtlpHttpLogExporter,
} from "../../exporters/otlp/mod.ts";
import { describeError } from "../../exporters/otlp/_transport.ts";
import { closedPort, FakeCollector, type ReceivedRequest } from "./_server.ts";
import { type Decoded, decodeLogs } from "./_decoder.ts";

const noEnv = () => undefined;
const SECRET = "s3cr3t-k3y-value";

function logRecordsOf(request: ReceivedRequest): Decoded[] {
  return (decodeLogs(request.body).resourceLogs ?? []).flatMap((r: Decoded) =>
    r.scopeLogs.flatMap((s: Decoded) => s.logRecords)
  );
}

/** Emits `count` records through a batch processor into an OTLP exporter, shuts down, returns what was counted and reported. */
async function deliver(
  options: OtlpHttpExporterOptions,
  count = 7,
): Promise<{
  processor: BatchLogRecordProcessor;
  exporter: OtlpHttpLogExporter;
  diagnostics: Diagnostic[];
}> {
  const diagnostics: Diagnostic[] = [];
  const sink = (d: Diagnostic) => diagnostics.push(d);
  const exporter = new OtlpHttpLogExporter({
    env: noEnv,
    diagnostics: sink,
    headers: { "x-api-key": SECRET },
    retry: { maxAttempts: 3, initialBackoffMillis: 10, maxBackoffMillis: 20 },
    ...options,
  });
  const processor = new BatchLogRecordProcessor(exporter, {
    env: noEnv,
    diagnostics: sink,
    scheduledDelayMillis: 5,
  });
  const provider = new LoggerProvider({ env: noEnv, processors: [processor] });
  const logger = provider.getLogger("transport");
  for (let i = 0; i < count; i++) logger.emit({ body: `record ${i}` });
  await provider.shutdown();
  return { processor, exporter, diagnostics };
}

function errorsOf(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.level === "error");
}

/** Every text a diagnostic carries: its message and its cause chain's messages and stacks. */
function textOf(d: Diagnostic): string {
  let text = d.message;
  let cause: unknown = d.cause;
  for (let i = 0; i < 6 && cause instanceof Error; i++, cause = cause.cause) {
    text += ` ${cause.message} ${cause.stack ?? ""}`;
  }
  return text;
}

describe("OTLP transport: redirects", () => {
  for (const status of [301, 302, 303]) {
    it(`fails on HTTP ${status} without following it, counting the batch as failed`, async () => {
      await using collector = await FakeCollector.start((r) =>
        r.path === "/v1/logs"
          ? { status, headers: { location: "/v1/moved?token=abc" } }
          : { status: 200 }
      );
      const { processor, exporter, diagnostics } = await deliver({
        endpoint: collector.url("/v1/logs"),
      });
      assert.deepEqual(
        collector.requests.map((r) => `${r.method} ${r.path}`),
        ["POST /v1/logs"],
        "no request follows the redirect (fetch's default turns it into a GET)",
      );
      const s = processor.stats;
      assert.equal(s.exported, 0);
      assert.equal(s.failed, 7);
      assert.equal(s.exportFailures, 1);
      assert.equal(exporter.stats.retries, 0, "a redirect is not retried");
      const errors = errorsOf(diagnostics);
      assert.equal(errors.length, 1);
      assert.match(
        errors[0].message,
        new RegExp(
          `HTTP ${status} redirect to http://127\\.0\\.0\\.1:${collector.port}/v1/moved;`,
        ),
      );
      assert.ok(
        !errors[0].message.includes("token=abc"),
        "the Location's query is not printed",
      );
    });
  }

  for (const status of [307, 308]) {
    it(`follows HTTP ${status} to the same origin with the same method, body and headers`, async () => {
      await using collector = await FakeCollector.start((r) =>
        r.path === "/v1/logs"
          ? { status, headers: { location: "/v2/logs" } }
          : { status: 200 }
      );
      const { processor, diagnostics } = await deliver({
        endpoint: collector.url("/v1/logs"),
      });
      assert.deepEqual(
        collector.requests.map((r) => `${r.method} ${r.path}`),
        ["POST /v1/logs", "POST /v2/logs"],
      );
      const [first, second] = collector.requests;
      assert.deepEqual(second.body, first.body, "the same body is re-sent");
      assert.equal(logRecordsOf(second).length, 7);
      assert.equal(second.headers["x-api-key"], SECRET);
      assert.equal(
        second.headers["content-type"],
        "application/x-protobuf",
      );
      assert.equal(processor.stats.exported, 7);
      assert.equal(processor.stats.failed, 0);
      assert.deepEqual(errorsOf(diagnostics), []);
    });

    it(`never sends anything to another origin on HTTP ${status}, and fails the batch`, async () => {
      await using other = await FakeCollector.start();
      await using collector = await FakeCollector.start(() => ({
        status,
        headers: { location: other.url("/v1/logs") },
      }));
      const { processor, exporter, diagnostics } = await deliver({
        endpoint: collector.url("/v1/logs"),
      });
      assert.equal(
        other.requests.length,
        0,
        "the other origin received no request (and so no x-api-key)",
      );
      assert.equal(collector.requests.length, 1, "not retried");
      assert.equal(exporter.stats.retries, 0);
      const s = processor.stats;
      assert.equal(s.exported, 0);
      assert.equal(s.failed, 7);
      const errors = errorsOf(diagnostics);
      assert.equal(errors.length, 1);
      assert.match(
        errors[0].message,
        new RegExp(
          `HTTP ${status} redirect to http://127\\.0\\.0\\.1:${other.port}/v1/logs, another origin`,
        ),
      );
      for (const d of diagnostics) assert.ok(!textOf(d).includes(SECRET));
    });
  }

  it("treats another port on the same host as another origin", async () => {
    await using other = await FakeCollector.start();
    await using collector = await FakeCollector.start(() => ({
      status: 307,
      headers: { location: `http://localhost:${other.port}/v1/logs` },
    }));
    const { processor } = await deliver({
      endpoint: collector.url("/v1/logs"),
    });
    assert.equal(other.requests.length, 0);
    assert.equal(processor.stats.failed, 7);
  });

  it(`follows at most 3 same-origin redirects in a row, then fails`, async () => {
    await using collector = await FakeCollector.start((r) => ({
      status: 307,
      headers: { location: `/hop/${r.index + 1}` },
    }));
    const { processor, diagnostics } = await deliver({
      endpoint: collector.url("/hop/0"),
    });
    assert.deepEqual(
      collector.requests.map((r) => r.path),
      ["/hop/0", "/hop/1", "/hop/2", "/hop/3"],
    );
    assert.equal(processor.stats.failed, 7);
    assert.match(errorsOf(diagnostics)[0].message, /more than 3 redirects/);
  });

  it("fails on a redirect without a Location, and on a redirect to itself", async () => {
    await using collector = await FakeCollector.start((r) =>
      r.path === "/none" ? { status: 307 } : {
        status: 308,
        headers: { location: r.path },
      }
    );
    const none = await deliver({ endpoint: collector.url("/none") });
    assert.equal(none.processor.stats.failed, 7);
    assert.match(
      errorsOf(none.diagnostics)[0].message,
      /HTTP 307 without a Location/,
    );
    const self = await deliver({ endpoint: collector.url("/self") });
    assert.equal(self.processor.stats.failed, 7);
    assert.match(errorsOf(self.diagnostics)[0].message, /the URL itself/);
    assert.equal(collector.requests.length, 2);
  });

  it("fails on an opaque redirect (what a browser-like fetch returns for redirect: manual)", async () => {
    let asked: RequestRedirect | undefined;
    const fetch = ((_url: unknown, init?: RequestInit) => {
      asked = init?.redirect;
      // Response.redirect-like opaque answers cannot be built in JS; this is their shape.
      return Promise.resolve({
        type: "opaqueredirect",
        status: 0,
        redirected: false,
        url: "",
        headers: new Headers(),
        body: null,
      } as unknown as Response);
    }) as typeof globalThis.fetch;
    const { processor, diagnostics } = await deliver({
      endpoint: "http://127.0.0.1:4318/v1/logs",
      fetch,
    });
    assert.equal(asked, "manual");
    assert.equal(processor.stats.exported, 0);
    assert.equal(processor.stats.failed, 7);
    assert.match(errorsOf(diagnostics)[0].message, /opaque redirect/);
  });
});

describe("OTLP transport: the export deadline", () => {
  it("cuts the last attempt's timeout to what is left of retry.maxElapsedMillis", async () => {
    await using collector = await FakeCollector.start(() => "stall");
    // Wide margins: on a loaded machine a timer fires hundreds of ms late,
    // and attempt 1's lateness must not push attempt 2 past the deadline.
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      endpoint: collector.url("/v1/logs"),
      timeoutMillis: 2000,
      retry: {
        maxAttempts: 5,
        initialBackoffMillis: 100,
        maxBackoffMillis: 100,
        jitter: 0,
        maxElapsedMillis: 3000,
      },
    });
    const started = performance.now();
    const result = await exporter.export(
      await records(3),
      new AbortController().signal,
    );
    const elapsed = performance.now() - started;
    assert.equal(result.code, "failure");
    // Attempt 1: 0-2000 ms; wait 100 ms; attempt 2 gets the ~900 ms left,
    // not its full 2000 ms (which would end at 4100 ms).
    assert.ok(elapsed >= 2900, `took ${elapsed.toFixed(0)} ms`);
    assert.ok(
      elapsed < 3800,
      `took ${elapsed.toFixed(0)} ms, past the 3000 ms deadline`,
    );
    assert.equal(exporter.stats.attempts, 2);
    const cut =
      /timed out after (\d+) ms \(timeoutMillis 2000, cut to what was left of retry\.maxElapsedMillis\)/
        .exec(result.code === "failure" ? result.error!.message : "");
    assert.ok(cut, "the last attempt's timeout was cut");
    assert.ok(Number(cut[1]) < 1000, `cut to ${cut[1]} ms`);
    await exporter.shutdown();
  });

  it("does not start a retry whose wait ends at the deadline", async () => {
    await using collector = await FakeCollector.start(() => ({ status: 503 }));
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      endpoint: collector.url("/v1/logs"),
      retry: {
        maxAttempts: 5,
        initialBackoffMillis: 300,
        maxBackoffMillis: 300,
        jitter: 0,
        maxElapsedMillis: 250,
      },
    });
    const result = await exporter.export(
      await records(1),
      new AbortController().signal,
    );
    assert.equal(result.code, "failure");
    assert.equal(collector.requests.length, 1);
    assert.match(
      result.code === "failure" ? result.error!.message : "",
      /HTTP 503; the next attempt \(in 300 ms\) would start past retry\.maxElapsedMillis 250/,
    );
    await exporter.shutdown();
  });
});

describe("OTLP transport: forceFlush and shutdown deadlines", () => {
  /** 1,024 records (two batches of 512) towards a collector that accepts the connection and never answers. */
  async function stalled(batch: {
    forceFlushTimeoutMillis?: number;
    shutdownTimeoutMillis?: number;
    maxConcurrentExports?: number;
  }) {
    const collector = await FakeCollector.start(() => "stall");
    const diagnostics: Diagnostic[] = [];
    const sink = (d: Diagnostic) => diagnostics.push(d);
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      diagnostics: sink,
      endpoint: collector.url("/v1/logs"),
      timeoutMillis: 60_000,
      shutdownTimeoutMillis: 10_000,
    });
    const processor = new BatchLogRecordProcessor(exporter, {
      env: noEnv,
      diagnostics: sink,
      // One export at a time (the default would be the exporter's 4): these
      // tests follow one batch in flight and one queued.
      maxConcurrentExports: 1,
      ...batch,
    });
    const provider = new LoggerProvider({
      env: noEnv,
      processors: [processor],
    });
    const logger = provider.getLogger("stalled");
    for (let i = 0; i < 1024; i++) logger.emit({ body: `record ${i}` });
    const deadline = Date.now() + 5000;
    while (collector.requests.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (
      batch.maxConcurrentExports === undefined &&
      "maxConcurrentExports" in batch
    ) {
      return { collector, processor, provider, diagnostics };
    }
    assert.equal(
      collector.requests.length,
      1,
      "the first batch is on the wire",
    );
    return { collector, processor, provider, diagnostics };
  }

  it("by default sends as many batches at once as the exporter allows (4)", async () => {
    const { collector, processor, provider } = await stalled({
      maxConcurrentExports: undefined,
      shutdownTimeoutMillis: 300,
    });
    await using _ = collector;
    const deadline = Date.now() + 5000;
    while (collector.requests.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(collector.requests.length, 2, "both batches on the wire");
    assert.equal(processor.stats.inFlight, 2);
    await provider.shutdown();
  });

  it("shutdown() finishes within shutdownTimeoutMillis, aborting the export in flight and dropping the queue, with one diagnostic", async () => {
    const { collector, processor, provider, diagnostics } = await stalled({
      shutdownTimeoutMillis: 1000,
    });
    await using _ = collector;
    const started = performance.now();
    await provider.shutdown();
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 850, `returned after ${elapsed.toFixed(0)} ms`);
    assert.ok(
      elapsed < 2000,
      `shutdown took ${elapsed.toFixed(0)} ms with shutdownTimeoutMillis 1000`,
    );
    const s = processor.stats;
    assert.equal(s.accepted, 1024);
    assert.equal(s.exported, 0);
    assert.equal(s.failed, 512, "the batch in flight was aborted");
    assert.equal(s.dropped, 512, "the queued batch was dropped");
    assert.equal(s.droppedOnShutdownTimeout, 512);
    assert.equal(s.queued, 0);
    assert.equal(s.inFlight, 0);
    assert.equal(s.exported + s.failed + s.dropped, 1024);
    assert.equal(collector.requests.length, 1, "the second batch never left");
    const reported = withoutSlowExporterShutdown(diagnostics);
    assert.equal(
      reported.length,
      1,
      reported.map((d) => d.message).join("\n"),
    );
    assert.match(
      reported[0].message,
      /^Shutdown did not finish within shutdownTimeoutMillis 1000: aborted 1 export\(s\) in flight \(512 items, counted as failed\) and dropped 512 queued items \(counted as dropped\)$/,
    );
  });

  it("forceFlush() returns at forceFlushTimeoutMillis and keeps what is left; shutdown() is bounded after it", async () => {
    const { collector, processor, provider, diagnostics } = await stalled({
      forceFlushTimeoutMillis: 500,
      shutdownTimeoutMillis: 500,
    });
    await using _ = collector;
    let started = performance.now();
    await provider.forceFlush();
    let elapsed = performance.now() - started;
    assert.ok(
      elapsed >= 400 && elapsed < 1000,
      `forceFlush took ${
        elapsed.toFixed(0)
      } ms with forceFlushTimeoutMillis 500`,
    );
    assert.equal(processor.stats.queued, 512, "kept, not dropped");
    assert.equal(processor.stats.inFlight, 1);
    assert.equal(processor.stats.dropped, 0);
    assert.equal(diagnostics.length, 1);
    assert.match(
      diagnostics[0].message,
      /forceFlush did not finish within forceFlushTimeoutMillis 500: 512 items still queued and 1 export\(s\) in flight/,
    );
    started = performance.now();
    await provider.shutdown();
    elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `shutdown took ${elapsed.toFixed(0)} ms`);
    const s = processor.stats;
    assert.equal(s.failed + s.dropped, 1024);
    assert.equal(s.droppedOnShutdownTimeout, 512);
    assert.equal(withoutSlowExporterShutdown(diagnostics).length, 2);
  });
});

/**
 * The processor keeps the last tenth of its shutdown timeout (30 ms at 300 ms)
 * for the exporter's own shutdown; on a loaded machine settling the aborted
 * fetch can take longer, which the processor reports as one extra warning.
 * That warning is about the exporter, not the deadline under test.
 */
function withoutSlowExporterShutdown(diagnostics: Diagnostic[]): Diagnostic[] {
  const slow =
    /^Exporter shutdown did not finish within shutdownTimeoutMillis \d+; not waiting for it$/;
  for (const d of diagnostics) {
    if (slow.test(d.message)) assert.equal(d.level, "warn");
  }
  return diagnostics.filter((d) => !slow.test(d.message));
}

describe("OTLP transport: simple processor deadline and options", () => {
  it("bounds a SimpleLogRecordProcessor's shutdown the same way", async () => {
    await using collector = await FakeCollector.start(() => "stall");
    const diagnostics: Diagnostic[] = [];
    const exporter = new OtlpHttpLogExporter({
      env: noEnv,
      endpoint: collector.url("/v1/logs"),
      timeoutMillis: 60_000,
    });
    const processor = new SimpleLogRecordProcessor(exporter, {
      shutdownTimeoutMillis: 300,
      diagnostics: (d) => diagnostics.push(d),
    });
    const provider = new LoggerProvider({
      env: noEnv,
      processors: [processor],
    });
    const logger = provider.getLogger("simple");
    for (let i = 0; i < 5; i++) logger.emit({ body: `record ${i}` });
    const started = performance.now();
    await provider.shutdown();
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 600, `shutdown took ${elapsed.toFixed(0)} ms`);
    const s = processor.stats;
    assert.equal(s.failed, 1);
    assert.equal(s.dropped, 4);
    assert.equal(s.droppedOnShutdownTimeout, 4);
    assert.equal(withoutSlowExporterShutdown(diagnostics).length, 1);
  });

  it("refuses a negative or fractional timeout, naming the option", () => {
    const exporter = new InMemoryExporter<LogRecordData>();
    assert.throws(
      () =>
        new BatchLogRecordProcessor(exporter, { shutdownTimeoutMillis: -1 }),
      /Cannot create BatchLogRecordProcessor with shutdownTimeoutMillis -1: expected an integer >= 0/,
    );
    assert.throws(
      () =>
        new SimpleLogRecordProcessor(exporter, {
          forceFlushTimeoutMillis: 0.5,
        }),
      RangeError,
    );
    assert.throws(
      () =>
        new BatchLogRecordProcessor(exporter, {
          forceFlushTimeoutMillis: Number.NaN,
        }),
      /forceFlushTimeoutMillis NaN/,
    );
  });
});

describe("OTLP transport: diagnostics", () => {
  it("names the runtime's cause of a refused connection, without the URL's query or header values", async () => {
    const port = await closedPort();
    const { processor, diagnostics } = await deliver({
      endpoint: `http://127.0.0.1:${port}/v1/logs?token=${SECRET}`,
      retry: { maxAttempts: 2, initialBackoffMillis: 5 },
    });
    assert.equal(processor.stats.failed, 7);
    const errors = errorsOf(diagnostics);
    assert.equal(errors.length, 1);
    // Deno: "fetch failed: error sending request for url (…): client error
    // (Connect): tcp connect error: Connection refused (os error 111)";
    // Bun: "ECONNREFUSED: Unable to connect. …".
    assert.match(errors[0].message, /Connection refused|ECONNREFUSED/);
    assert.match(
      errors[0].message,
      new RegExp(`http://127\\.0\\.0\\.1:${port}/v1/logs`),
    );
    for (const d of diagnostics) {
      assert.ok(!textOf(d).includes(SECRET), `leaks a secret: ${textOf(d)}`);
    }
  });

  it("joins an error's cause chain once each, and survives hostile errors", () => {
    const inner = Object.assign(
      new Error("Connection refused (os error 111)"),
      {
        code: "ECONNREFUSED",
      },
    );
    const outer = new TypeError("fetch failed", {
      cause: new Error(`tcp connect error: ${inner.message}`, { cause: inner }),
    });
    assert.equal(
      describeError(outer),
      "fetch failed: tcp connect error: Connection refused (os error 111): ECONNREFUSED",
    );
    const hostile = new Proxy({}, {
      get() {
        throw new Error("boom");
      },
    });
    assert.equal(describeError(hostile), "unknown error");
    const cyclic: { message: string; cause?: unknown } = { message: "loop" };
    cyclic.cause = cyclic;
    assert.equal(describeError(cyclic), "loop");
    assert.equal(describeError("plain"), "plain");
  });
});

describe("OTLP transport: User-Agent", () => {
  it("sends a valid RFC 9110 User-Agent naming the exporter's language first", async () => {
    await using collector = await FakeCollector.start();
    const { processor } = await deliver({
      endpoint: collector.url("/v1/logs"),
    });
    assert.equal(processor.stats.exported, 7);
    const agent = collector.requests[0].headers["user-agent"];
    assert.equal(typeof agent, "string");
    // RFC 9110 §10.1.5: User-Agent = product *( RWS ( product / comment ) ),
    // product = token [ "/" product-version ], token = 1*tchar.
    const tchar = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
    const product = `${tchar}+(?:/${tchar}+)?`;
    const comment = "\\([^()]*\\)";
    assert.match(
      agent as string,
      new RegExp(`^${product}(?:[ \\t]+(?:${product}|${comment}))*$`),
    );
    const products = (agent as string).split(/[ \t]+/);
    assert.equal(products[0], `OTel-OTLP-Exporter-JavaScript/${SDK_VERSION}`);
    assert.equal(products[1], `seed-telemetry/${SDK_VERSION}`);
  });
});

async function records(count: number): Promise<LogRecordData[]> {
  const memory = new InMemoryExporter<LogRecordData>();
  const provider = new LoggerProvider({
    env: noEnv,
    processors: [new SimpleLogRecordProcessor(memory)],
  });
  const logger = provider.getLogger("records");
  for (let i = 0; i < count; i++) logger.emit({ body: `r${i}` });
  await provider.shutdown();
  return memory.items;
}
