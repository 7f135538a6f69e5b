import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { setImmediate } from "node:timers";
import { fileURLToPath } from "node:url";
import {
  BatchLogRecordProcessor,
  BatchSpanProcessor,
  LoggerProvider,
  type LogRecordData,
  type ReadableSpan,
  Resource,
  SimpleLogRecordProcessor,
  TracerProvider,
} from "../../mod.ts";
import {
  collect,
  deferred,
  envOf,
  ManualScheduler,
  ScriptedExporter,
  settle,
} from "./_fakes.ts";

const resource = new Resource({ "service.name": "test" });

/** Lets the emitting job end: the delay timer is armed by a microtask queued at the first emit. */
const endOfJob = (): Promise<void> =>
  new Promise<void>((resolve) => queueMicrotask(resolve));

/**
 * The live timers but the export timeout's: one timer serves every export
 * and stays armed once exports end (see `#watch` in pipeline/_batcher.ts),
 * so it is told apart by its delay (exportTimeoutMillis, 30 s by default).
 */
const batchTimers = (scheduler: ManualScheduler, exportTimeout = 30_000) =>
  scheduler.pending().filter((t) => t.ms !== exportTimeout);

function setup(options: Record<string, unknown> = {}) {
  const scheduler = new ManualScheduler();
  const exporter = new ScriptedExporter<LogRecordData>();
  const diagnostics = collect();
  const processor = new BatchLogRecordProcessor(exporter, {
    scheduler,
    diagnostics: diagnostics.sink,
    env: envOf({}),
    ...options,
  });
  const provider = new LoggerProvider({
    resource,
    processors: [processor],
    env: envOf({}),
  });
  const logger = provider.getLogger("test");
  return { scheduler, exporter, processor, provider, logger, diagnostics };
}

describe("BatchLogRecordProcessor", () => {
  it("uses the specification's defaults", async () => {
    const { scheduler, logger } = setup();
    logger.emit({ body: "x" });
    await endOfJob();
    assert.deepEqual(scheduler.pending().map((t) => t.ms), [1000]);
  });

  it("reads OTEL_BLRP_* and lets options win", async () => {
    const scheduler = new ManualScheduler();
    const exporter = new ScriptedExporter<LogRecordData>();
    const env = envOf({
      OTEL_BLRP_SCHEDULE_DELAY: "250",
      OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: "3",
    });
    const processor = new BatchLogRecordProcessor(exporter, {
      scheduler,
      env,
      maxQueueSize: 10,
    });
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    const logger = provider.getLogger("t");
    logger.emit({ body: 1 });
    await endOfJob();
    assert.deepEqual(scheduler.pending().map((t) => t.ms), [250]);
    logger.emit({ body: 2 });
    logger.emit({ body: 3 });
    scheduler.fire(0);
    await settle();
    assert.equal(exporter.calls.length, 1);
    assert.equal(exporter.calls[0].length, 3);
  });

  it("exports a partial batch when the timer fires, and arms no timer while empty", async () => {
    const { scheduler, exporter, logger, processor } = setup({
      scheduledDelayMillis: 100,
    });
    assert.equal(scheduler.pending().length, 0);
    logger.emit({ body: "a" });
    logger.emit({ body: "b" });
    assert.equal(scheduler.pending().length, 0, "none on the caller's stack");
    await endOfJob();
    assert.equal(
      scheduler.pending().length,
      1,
      "one timer for the queued records, once the emitting job ends",
    );
    assert.equal(exporter.calls.length, 0, "nothing exported before the timer");
    scheduler.fire(100);
    await settle();
    assert.deepEqual(exporter.calls.map((b) => b.map((r) => r.body)), [[
      "a",
      "b",
    ]]);
    assert.equal(
      batchTimers(scheduler).length,
      0,
      "no timer once the queue is empty (but the export timeout's)",
    );
    assert.equal(processor.stats.exported, 2);
  });

  it("exports full batches of maxExportBatchSize without waiting for the delay", async () => {
    const { scheduler, exporter, logger } = setup({
      maxExportBatchSize: 4,
      maxQueueSize: 100,
    });
    for (let i = 0; i < 10; i++) logger.emit({ body: i });
    assert.equal(
      exporter.calls.length,
      0,
      "the export never runs on the caller's stack",
    );
    scheduler.fire(0);
    await settle();
    assert.deepEqual(exporter.calls.map((b) => b.length), [4, 4]);
    assert.equal(batchTimers(scheduler).length, 1);
    assert.equal(
      batchTimers(scheduler)[0].ms,
      1000,
      "the remainder waits for the delay",
    );
    scheduler.fire();
    await settle();
    assert.deepEqual(exporter.calls.map((b) => b.length), [4, 4, 2]);
    assert.deepEqual(exporter.calls.flat().map((r) => r.body), [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
  });

  it("arms one 0 ms timer for a full batch, however many items arrive after it", () => {
    const { scheduler, exporter, logger } = setup({
      maxExportBatchSize: 4,
      maxQueueSize: 100,
    });
    for (let i = 0; i < 50; i++) logger.emit({ body: i });
    assert.equal(exporter.calls.length, 0);
    assert.equal(
      scheduler.timers.filter((t) => t.ms === 0).length,
      1,
      "no timer per item past the full batch",
    );
    assert.deepEqual(scheduler.pending().map((t) => t.ms), [0]);
  });

  it("arms no delay timer for a burst that fills a batch or is flushed within the emitting job", async () => {
    const { scheduler, exporter, logger, processor } = setup({
      maxExportBatchSize: 4,
      maxQueueSize: 100,
    });
    for (let i = 0; i < 4; i++) logger.emit({ body: i });
    await endOfJob();
    assert.deepEqual(scheduler.timers.map((t) => t.ms), [0]);
    scheduler.fire(0);
    await settle();
    for (let i = 0; i < 3; i++) logger.emit({ body: i });
    await processor.forceFlush();
    assert.deepEqual(exporter.calls.map((b) => b.length), [4, 3]);
    assert.equal(
      scheduler.timers.filter((t) => t.ms === 1000).length,
      0,
      "the delay timer was never armed",
    );
    assert.equal(
      batchTimers(scheduler).length,
      0,
      "no timer left while empty (but the export timeout's)",
    );
    logger.emit({ body: "late" });
    await endOfJob();
    assert.deepEqual(
      batchTimers(scheduler).map((t) => t.ms),
      [1000],
      "a record left queued at the end of its job gets the delay timer",
    );
  });

  it("reports a scheduler that throws when the delay timer is armed, and still exports on forceFlush", async () => {
    const diagnostics = collect();
    const exporter = new ScriptedExporter<LogRecordData>();
    const inner = new ManualScheduler();
    const processor = new BatchLogRecordProcessor(exporter, {
      scheduler: {
        setTimeout(fn: () => void, ms: number): unknown {
          if (ms === 1000) throw new Error("no timers today");
          return inner.setTimeout(fn, ms);
        },
        clearTimeout: (handle: unknown) => inner.clearTimeout(handle),
      },
      diagnostics: diagnostics.sink,
      env: envOf({}),
    });
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    const logger = provider.getLogger("t");
    logger.emit({ body: "a" }); // must not throw, now or in the microtask
    logger.emit({ body: "b" });
    await endOfJob();
    await endOfJob();
    assert.equal(diagnostics.seen.length, 1);
    assert.equal(diagnostics.seen[0].level, "error");
    assert.match(diagnostics.seen[0].message, /setTimeout threw/);
    assert.equal(processor.stats.queued, 2, "kept, not dropped");
    await processor.forceFlush();
    assert.deepEqual(exporter.calls.flat().map((r) => r.body), ["a", "b"]);
    assert.equal(processor.stats.exported, 2);
  });

  it("with real timers, exports a lone record after scheduledDelayMillis", async () => {
    const exporter = new ScriptedExporter<LogRecordData>();
    const processor = new BatchLogRecordProcessor(exporter, {
      scheduledDelayMillis: 20,
      env: envOf({}),
      diagnostics: collect().sink,
    });
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    provider.getLogger("t").emit({ body: "lone" });
    const start = performance.now();
    while (exporter.calls.length === 0 && performance.now() - start < 5000) {
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
    assert.deepEqual(exporter.calls.flat().map((r) => r.body), ["lone"]);
    assert.ok(performance.now() - start >= 15, "not before the delay");
    await provider.shutdown();
  });

  it("with real timers, starts a full batch's export on the next turn of the event loop (setImmediate, not a clamped setTimeout)", async () => {
    const exporter = new ScriptedExporter<LogRecordData>();
    const processor = new BatchLogRecordProcessor(exporter, {
      maxExportBatchSize: 8,
      env: envOf({}),
      diagnostics: collect().sink,
    });
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    const logger = provider.getLogger("t");
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 8; i++) logger.emit({ body: i });
      assert.equal(exporter.calls.length, round, "never on the caller's stack");
      // An immediate queued after the processor's runs after it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(exporter.calls.length, round + 1, `round ${round}`);
      await settle();
    }
    await provider.shutdown();
  });

  it("keeps at most one export in flight by default", async () => {
    const { scheduler, exporter, logger } = setup({ maxExportBatchSize: 2 });
    const gates = [
      deferred<{ code: "success" }>(),
      deferred<{ code: "success" }>(),
    ];
    let n = 0;
    exporter.script = () => gates[n++].promise;
    for (let i = 0; i < 4; i++) logger.emit({ body: i });
    scheduler.fire(0);
    await settle();
    assert.equal(exporter.calls.length, 1);
    gates[0].resolve({ code: "success" });
    await settle();
    assert.equal(exporter.calls.length, 2);
    gates[1].resolve({ code: "success" });
    await settle();
  });

  it("allows more exports in flight when configured", async () => {
    const { scheduler, exporter, logger } = setup({
      maxExportBatchSize: 2,
      maxConcurrentExports: 2,
    });
    const gate = deferred<{ code: "success" }>();
    exporter.script = () => gate.promise;
    for (let i = 0; i < 6; i++) logger.emit({ body: i });
    scheduler.fire(0);
    await settle();
    assert.equal(exporter.calls.length, 2);
    gate.resolve({ code: "success" });
    await settle();
    assert.equal(exporter.calls.length, 3);
  });

  it("takes the exporter's maxConcurrentExports as its default; a bad or throwing one means 1", async () => {
    const inFlight = async (advertised: PropertyDescriptor | undefined) => {
      const scheduler = new ManualScheduler();
      const exporter = new ScriptedExporter<LogRecordData>();
      if (advertised !== undefined) {
        Object.defineProperty(exporter, "maxConcurrentExports", advertised);
      }
      const gate = deferred<{ code: "success" }>();
      exporter.script = () => gate.promise;
      const provider = new LoggerProvider({
        resource,
        env: envOf({}),
        processors: [
          new BatchLogRecordProcessor(exporter, {
            scheduler,
            maxExportBatchSize: 2,
            diagnostics: collect().sink,
            env: envOf({}),
          }),
        ],
      });
      const logger = provider.getLogger("t");
      for (let i = 0; i < 10; i++) logger.emit({ body: i });
      scheduler.fire(0);
      await settle();
      const n = exporter.calls.length;
      gate.resolve({ code: "success" });
      await settle();
      return n;
    };
    assert.equal(await inFlight(undefined), 1);
    assert.equal(await inFlight({ value: 3 }), 3);
    assert.equal(await inFlight({ value: 0 }), 1);
    assert.equal(await inFlight({ value: 2.5 }), 1);
    assert.equal(await inFlight({ value: "4" }), 1);
    assert.equal(
      await inFlight({
        get() {
          throw new Error("hostile");
        },
      }),
      1,
    );
  });

  it("drops and counts records when the queue is full, and says so once", async () => {
    const { scheduler, exporter, logger, processor, diagnostics } = setup({
      maxQueueSize: 5,
      maxExportBatchSize: 5,
    });
    const gate = deferred<{ code: "success" }>();
    exporter.script = () => gate.promise;
    for (let i = 0; i < 5; i++) logger.emit({ body: i });
    scheduler.fire(0);
    await settle();
    for (let i = 5; i < 15; i++) logger.emit({ body: i }); // 5 fit, 5 dropped
    const stats = processor.stats;
    assert.equal(stats.accepted, 10);
    assert.equal(stats.dropped, 5);
    assert.equal(stats.queued, 5);
    assert.equal(stats.inFlight, 1);
    assert.equal(
      diagnostics.seen.filter((d) => /Queue full/.test(d.message)).length,
      1,
    );
    gate.resolve({ code: "success" });
    await processor.forceFlush();
    assert.equal(processor.stats.exported, 10);
    assert.deepEqual(exporter.calls.flat().map((r) => r.body), [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
  });

  it("keeps order and counts across queue chunks: batches above 8192 items, a full queue taken from mid-chunk and refilled", async () => {
    // The queue holds chunks of min(maxExportBatchSize, 8192) items: these
    // batches span chunks and leave the oldest one partly taken.
    const { scheduler, exporter, logger, processor } = setup({
      maxQueueSize: 20_000,
      maxExportBatchSize: 10_000,
    });
    const gate = deferred<{ code: "success" }>();
    let first = true;
    exporter.script = () => {
      if (!first) return Promise.resolve({ code: "success" as const });
      first = false;
      return gate.promise;
    };
    for (let i = 0; i < 20_005; i++) logger.emit({ body: i });
    assert.equal(processor.stats.dropped, 5);
    scheduler.fire(0);
    await settle();
    assert.equal(processor.stats.inFlight, 1);
    assert.equal(processor.stats.queued, 10_000);
    for (let i = 20_005; i < 30_010; i++) logger.emit({ body: i });
    assert.equal(processor.stats.queued, 20_000);
    assert.equal(processor.stats.dropped, 10);
    gate.resolve({ code: "success" });
    await processor.forceFlush();
    assert.deepEqual(exporter.calls.map((b) => b.length), [
      10_000,
      10_000,
      10_000,
    ]);
    const bodies = exporter.calls.flat().map((r) => r.body as number);
    const expected: number[] = [];
    for (let i = 0; i < 20_000; i++) expected.push(i);
    for (let i = 20_005; i < 30_005; i++) expected.push(i);
    assert.deepEqual(bodies, expected);
    assert.equal(processor.stats.exported, 30_000);
    assert.equal(processor.stats.queued, 0);
  });

  it("hands each batch over once, never written to again, whole or cut to its items", async () => {
    // The batches themselves, not copies: the queue's chunks are handed over.
    const kept: LogRecordData[][] = [];
    const processor = new BatchLogRecordProcessor({
      export(batch: LogRecordData[]) {
        kept.push(batch);
        return Promise.resolve({ code: "success" as const });
      },
      shutdown: () => Promise.resolve(),
    }, {
      maxExportBatchSize: 4,
      maxQueueSize: 100,
      scheduler: new ManualScheduler(),
      env: envOf({}),
    });
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    const logger = provider.getLogger("test");
    for (let i = 0; i < 6; i++) logger.emit({ body: i });
    await processor.forceFlush(); // a full chunk, then a partly filled one
    for (let i = 6; i < 13; i++) logger.emit({ body: i });
    await processor.forceFlush();
    const shape = () => kept.map((b) => [b.length, ...b.map((r) => r.body)]);
    assert.deepEqual(shape(), [[4, 0, 1, 2, 3], [2, 4, 5], [4, 6, 7, 8, 9], [
      3,
      10,
      11,
      12,
    ]]);
    for (const batch of kept) {
      for (let i = 0; i < batch.length; i++) assert.ok(i in batch);
    }
    for (let i = 13; i < 20; i++) logger.emit({ body: i });
    await provider.shutdown();
    assert.deepEqual(shape().slice(0, 4), [[4, 0, 1, 2, 3], [2, 4, 5], [
      4,
      6,
      7,
      8,
      9,
    ], [3, 10, 11, 12]]);
    assert.equal(kept.length, 6);
  });

  it("forceFlush exports everything queued at the time of the call", async () => {
    const { exporter, logger, processor } = setup({
      maxExportBatchSize: 3,
      maxQueueSize: 100,
    });
    for (let i = 0; i < 8; i++) logger.emit({ body: i });
    await processor.forceFlush();
    assert.deepEqual(exporter.calls.map((b) => b.length), [3, 3, 2]);
    assert.equal(processor.stats.queued, 0);
    assert.equal(processor.stats.exported, 8);
  });

  it("forceFlush waits for an export already in flight", async () => {
    const { scheduler, exporter, logger, processor } = setup({
      maxExportBatchSize: 2,
    });
    const gate = deferred<{ code: "success" }>();
    exporter.script = () => gate.promise;
    logger.emit({ body: 1 });
    logger.emit({ body: 2 });
    scheduler.fire(0);
    await settle();
    let flushed = false;
    const flushing = processor.forceFlush().then(() => (flushed = true));
    await settle();
    assert.equal(flushed, false);
    gate.resolve({ code: "success" });
    await flushing;
    assert.equal(processor.stats.exported, 2);
  });

  it("shutdown flushes, shuts the exporter down, then refuses and counts new records", async () => {
    const { exporter, logger, processor, provider } = setup();
    logger.emit({ body: "before" });
    await processor.shutdown();
    assert.deepEqual(exporter.calls.flat().map((r) => r.body), ["before"]);
    assert.equal(exporter.shutdownCalls, 1);
    processor.onEmit({ body: "after" }, logger.context);
    assert.equal(processor.stats.dropped, 1);
    assert.equal(processor.stats.droppedAfterShutdown, 1);
    assert.equal(processor.enabled(), false);
    await processor.shutdown(); // idempotent
    assert.equal(exporter.shutdownCalls, 1);
    await provider.shutdown();
  });

  it("counts a failed export and never lets it reach the caller", async () => {
    const { scheduler, exporter, logger, processor, diagnostics } = setup({
      maxExportBatchSize: 2,
    });
    exporter.script = () =>
      Promise.resolve({
        code: "failure",
        retryable: false,
        error: new Error("HTTP 400"),
      });
    logger.emit({ body: 1 });
    logger.emit({ body: 2 });
    scheduler.fire(0);
    await settle();
    assert.equal(processor.stats.failed, 2);
    assert.equal(processor.stats.exportFailures, 1);
    assert.match(
      diagnostics.seen.at(-1)!.message,
      /Export of 2 items failed \(not retryable\): HTTP 400/,
    );
  });

  it("contains an exporter that rejects", async () => {
    const { logger, exporter, processor } = setup();
    exporter.script = () => Promise.reject(new Error("boom"));
    logger.emit({ body: 1 });
    await processor.forceFlush();
    assert.equal(processor.stats.failed, 1);
  });

  it("contains an exporter that throws synchronously", async () => {
    const { logger, exporter, processor } = setup();
    exporter.script = () => {
      throw new Error("sync boom");
    };
    logger.emit({ body: 1 });
    await processor.forceFlush();
    assert.equal(processor.stats.failed, 1);
    assert.equal(processor.stats.exported, 0);
  });

  it("aborts an export that outlives exportTimeoutMillis and counts it as failed", async () => {
    const { scheduler, logger, exporter, processor, diagnostics } = setup({
      exportTimeoutMillis: 500,
    });
    exporter.script = () => new Promise(() => {}); // never settles, ignores the signal
    logger.emit({ body: 1 });
    const flushing = processor.forceFlush();
    await settle();
    assert.equal(exporter.signals[0].aborted, false);
    assert.equal(scheduler.fire(500), 1);
    await flushing;
    assert.equal(exporter.signals[0].aborted, true);
    assert.equal(processor.stats.failed, 1);
    assert.match(diagnostics.seen.at(-1)!.message, /timed out after 500 ms/);
  });

  it("counts records the receiver rejected in a partial success", async () => {
    const { logger, exporter, processor, diagnostics } = setup();
    exporter.script = (batch) =>
      Promise.resolve({
        code: "success",
        rejected: batch.length - 1,
        message: "bad attributes",
      });
    for (let i = 0; i < 3; i++) logger.emit({ body: i });
    await processor.forceFlush();
    assert.equal(processor.stats.exported, 3);
    assert.equal(processor.stats.rejected, 2);
    assert.match(
      diagnostics.seen.at(-1)!.message,
      /rejected 2 of 3 items: bad attributes/,
    );
  });

  it("rejects bad options with a RangeError naming the option", () => {
    const exporter = new ScriptedExporter<LogRecordData>();
    assert.throws(
      () => new BatchLogRecordProcessor(exporter, { maxQueueSize: 0 }),
      /maxQueueSize 0/,
    );
    assert.throws(
      () =>
        new BatchLogRecordProcessor(exporter, {
          maxQueueSize: 10,
          maxExportBatchSize: 20,
        }),
      /maxExportBatchSize 20 > maxQueueSize 10/,
    );
    assert.throws(
      () => new BatchLogRecordProcessor(exporter, { exportTimeoutMillis: -1 }),
      RangeError,
    );
  });

  it("falls back to defaults with a diagnostic on bad environment values", async () => {
    const scheduler = new ManualScheduler();
    const diagnostics = collect();
    const processor = new BatchLogRecordProcessor(
      new ScriptedExporter<LogRecordData>(),
      {
        scheduler,
        diagnostics: diagnostics.sink,
        env: envOf({
          OTEL_BLRP_SCHEDULE_DELAY: "soon",
          OTEL_BLRP_MAX_QUEUE_SIZE: "0",
        }),
      },
    );
    processor.onEmit(
      { body: 1 },
      new LoggerProvider({ resource, env: envOf({}) }).getLogger("x").context,
    );
    await endOfJob();
    assert.deepEqual(scheduler.pending().map((t) => t.ms), [1000]);
    assert.equal(diagnostics.seen.length, 2);
    assert.match(diagnostics.seen[0].message, /OTEL_BLRP_MAX_QUEUE_SIZE="0"/);
    assert.match(
      diagnostics.seen[1].message,
      /OTEL_BLRP_SCHEDULE_DELAY="soon"/,
    );
  });

  it("does not keep the process alive with its real timer", () => {
    // A child process queues a record behind an hour-long delay and must
    // still exit by itself (the timeout below only bounds a broken run).
    const script = fileURLToPath(
      new URL("../testdata/queued_record_exits.ts", import.meta.url),
    );
    const args = navigator.userAgent.startsWith("Deno")
      ? ["run", "-A", "--no-check", script]
      : [script];
    const child = spawnSync(process.execPath, args, {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(
      child.signal,
      null,
      "the child had to be killed: a timer kept it alive",
    );
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /queued=1/);
  });

  it("does not keep the process alive with the export timeout or flush deadline timers it leaves armed", () => {
    const script = fileURLToPath(
      new URL("../testdata/flushed_then_exits.ts", import.meta.url),
    );
    const args = navigator.userAgent.startsWith("Deno")
      ? ["run", "-A", "--no-check", script]
      : [script];
    const started = performance.now();
    const child = spawnSync(process.execPath, args, {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(
      child.signal,
      null,
      "the child had to be killed: a timer kept it alive",
    );
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /exported=3/);
    assert.ok(performance.now() - started < 30_000, "exited by itself");
  });

  it("serves every export's timeout with one timer: none per export that ends in time", async () => {
    const { scheduler, logger, processor } = setup({
      exportTimeoutMillis: 500,
    });
    for (let i = 0; i < 5; i++) {
      logger.emit({ body: i });
      await processor.forceFlush();
    }
    assert.equal(processor.stats.exported, 5);
    assert.equal(
      scheduler.timers.filter((t) => t.ms === 500).length,
      1,
      "one export timeout timer for five exports",
    );
    assert.equal(batchTimers(scheduler, 500).length, 0);
    await processor.shutdown();
    assert.deepEqual(scheduler.pending(), [], "shutdown leaves no timer");
  });

  it("times out a later export on the timer armed for an earlier one, after its own full timeout", async () => {
    const { scheduler, logger, exporter, processor, diagnostics } = setup({
      exportTimeoutMillis: 500,
    });
    logger.emit({ body: "in time" });
    await processor.forceFlush();
    exporter.script = () => new Promise(() => {}); // never settles
    logger.emit({ body: "hangs" });
    const flushing = processor.forceFlush();
    await settle();
    assert.equal(exporter.signals.length, 2);
    // The timer fires early for this export (it was armed for the first):
    // it is not aborted, and the timer is re-armed for the rest of its time.
    assert.equal(scheduler.fire(500), 1);
    assert.equal(exporter.signals[1].aborted, false);
    const rearmed = scheduler.pending();
    assert.equal(rearmed.length, 1);
    assert.ok(rearmed[0].ms >= 1 && rearmed[0].ms <= 500, `${rearmed[0].ms}`);
    rearmed[0].cancelled = true;
    rearmed[0].fn();
    await flushing;
    assert.equal(exporter.signals[1].aborted, true);
    assert.equal(processor.stats.failed, 1);
    assert.equal(processor.stats.exported, 1);
    assert.match(diagnostics.seen.at(-1)!.message, /timed out after 500 ms/);
  });

  it("times out concurrent exports each at its own deadline, one timer at a time", async () => {
    const { scheduler, logger, exporter, processor } = setup({
      exportTimeoutMillis: 500,
      maxExportBatchSize: 1,
      maxConcurrentExports: 2,
    });
    exporter.script = () => new Promise(() => {});
    logger.emit({ body: "a" });
    logger.emit({ body: "b" });
    const flushing = processor.forceFlush();
    await settle();
    assert.equal(exporter.signals.length, 2);
    assert.equal(scheduler.pending().filter((t) => t.ms === 500).length, 1);
    assert.equal(scheduler.fire(500), 1);
    await settle();
    assert.deepEqual(exporter.signals.map((s) => s.aborted), [true, false]);
    const rest = scheduler.pending();
    assert.equal(rest.length, 1, "re-armed for the second export");
    rest[0].cancelled = true;
    rest[0].fn();
    await flushing;
    assert.deepEqual(exporter.signals.map((s) => s.aborted), [true, true]);
    assert.equal(processor.stats.failed, 2);
    assert.equal(processor.stats.exportFailures, 2);
  });

  it("reports a scheduler that throws when the export timeout is armed, and still exports", async () => {
    const diagnostics = collect();
    const exporter = new ScriptedExporter<LogRecordData>();
    const inner = new ManualScheduler();
    const processor = new BatchLogRecordProcessor(exporter, {
      exportTimeoutMillis: 700,
      scheduler: {
        setTimeout(fn: () => void, ms: number): unknown {
          if (ms === 700) throw new Error("no timers today");
          return inner.setTimeout(fn, ms);
        },
        clearTimeout: (handle: unknown) => inner.clearTimeout(handle),
      },
      diagnostics: diagnostics.sink,
      env: envOf({}),
    });
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    provider.getLogger("t").emit({ body: "a" });
    await processor.forceFlush();
    assert.equal(processor.stats.exported, 1);
    assert.equal(diagnostics.seen.length, 1);
    assert.match(diagnostics.seen[0].message, /setTimeout threw/);
    await provider.shutdown();
  });

  it("with real timers, times out exports one after another on the one timer, and flushes time out at their deadlines", async () => {
    const exporter = new ScriptedExporter<LogRecordData>();
    const diagnostics = collect();
    const processor = new BatchLogRecordProcessor(exporter, {
      exportTimeoutMillis: 40,
      forceFlushTimeoutMillis: 5_000,
      env: envOf({}),
      diagnostics: diagnostics.sink,
    });
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    const logger = provider.getLogger("t");
    exporter.script = () => new Promise(() => {});
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      logger.emit({ body: i });
      await processor.forceFlush();
      const took = performance.now() - started;
      assert.ok(took >= 35, `export ${i} timed out after ${took} ms`);
    }
    assert.equal(processor.stats.failed, 3);
    // A flush whose export outlives its deadline returns at the deadline.
    const slow = new BatchLogRecordProcessor(exporter, {
      exportTimeoutMillis: 60_000,
      forceFlushTimeoutMillis: 30,
      env: envOf({}),
      diagnostics: diagnostics.sink,
    });
    const p2 = new LoggerProvider({
      resource,
      processors: [slow],
      env: envOf({}),
    });
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      p2.getLogger("t").emit({ body: i });
      await slow.forceFlush();
      const took = performance.now() - started;
      assert.ok(
        took >= 25 && took < 5_000,
        `flush ${i} returned after ${took} ms`,
      );
    }
    assert.match(diagnostics.seen.at(-1)!.message, /forceFlush did not finish/);
    await provider.shutdown();
  });

  it("takes any answer of the exporter without throwing: a plain result, thenables, a late rejection after a timeout", async () => {
    const { scheduler, logger, exporter, processor, diagnostics } = setup({
      exportTimeoutMillis: 500,
    });
    const answers: (() => unknown)[] = [
      () => ({ code: "success" }), // not a promise
      () => ({ then: (ok: (r: unknown) => void) => ok({ code: "success" }) }),
      () => ({
        get then() {
          throw new Error("then getter");
        },
      }),
      () => ({ then: () => {} }), // never settles: timed out below
      () => Promise.reject("not an Error"),
      () => undefined,
    ];
    let late!: (error: unknown) => void;
    let call = 0;
    exporter.script = () => {
      const answer = answers[call++];
      if (answer !== undefined) return answer() as Promise<never>;
      // Times out, then rejects: counted once, and not an unhandled rejection.
      return new Promise((_, reject) => {
        late = reject;
      });
    };
    for (let i = 0; i <= answers.length; i++) {
      logger.emit({ body: i });
      const flushing = processor.forceFlush();
      await settle();
      if (i === 3 || i === answers.length) {
        // The one timer was armed for an earlier export: it re-arms once for
        // this one, then aborts it.
        for (let k = 0; k < 3 && !exporter.signals[i].aborted; k++) {
          scheduler.fire();
        }
        assert.equal(
          exporter.signals[i].aborted,
          true,
          `export ${i} timed out`,
        );
      }
      await flushing;
    }
    late(new Error("too late"));
    await settle();
    const s = processor.stats;
    assert.equal(s.exported, 2, "the plain result and the thenable");
    assert.equal(s.failed, 5);
    assert.equal(s.exportFailures, 5);
    assert.equal(s.exported + s.failed, answers.length + 1);
    const messages = diagnostics.seen.map((d) => d.message).join("\n");
    assert.match(messages, /then getter/);
    assert.match(messages, /not an Error/);
    assert.match(messages, /no ExportResult/);
    assert.equal((messages.match(/timed out after 500 ms/g) ?? []).length, 2);
    assert.doesNotMatch(messages, /too late/);
  });

  it("conserves every record: exported + failed + dropped = emitted", async () => {
    const { logger, exporter, processor } = setup({
      maxQueueSize: 50,
      maxExportBatchSize: 7,
    });
    let call = 0;
    exporter.script = () =>
      Promise.resolve(
        call++ % 3 === 0
          ? { code: "failure", retryable: true }
          : { code: "success" },
      );
    for (let i = 0; i < 200; i++) {
      logger.emit({ body: i });
      if (i % 40 === 0) await settle(1);
    }
    await processor.forceFlush();
    const s = processor.stats;
    assert.equal(s.exported + s.failed + s.dropped, 200);
    assert.equal(s.accepted, s.exported + s.failed);
    assert.ok(s.dropped > 0, "the queue overflowed at least once");
  });
});

describe("BatchSpanProcessor", () => {
  it("exports ended sampled spans and skips unsampled ones", async () => {
    const scheduler = new ManualScheduler();
    const exporter = new ScriptedExporter<ReadableSpan>();
    const processor = new BatchSpanProcessor(exporter, {
      scheduler,
      env: envOf({}),
    });
    const provider = new TracerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    const tracer = provider.getTracer("t");
    tracer.startSpan("sampled").end();
    tracer.startSpan("unsampled", {
      parent: {
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7",
        traceFlags: 0,
      },
    }).end();
    await endOfJob();
    assert.deepEqual(scheduler.pending().map((t) => t.ms), [5000]);
    await processor.forceFlush();
    assert.deepEqual(exporter.calls.flat().map((s) => s.name), ["sampled"]);
    await provider.shutdown();
    assert.equal(exporter.shutdownCalls, 1);
  });
});

describe("SimpleLogRecordProcessor", () => {
  it("exports each record on its own, one export at a time, in order", async () => {
    const exporter = new ScriptedExporter<LogRecordData>();
    const gates = [
      deferred<{ code: "success" }>(),
      deferred<{ code: "success" }>(),
      deferred<{ code: "success" }>(),
    ];
    let n = 0;
    exporter.script = () => gates[n++].promise;
    const processor = new SimpleLogRecordProcessor(exporter);
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    const logger = provider.getLogger("t");
    logger.emit({ body: "a" });
    assert.equal(exporter.calls.length, 1, "the first export starts at once");
    logger.emit({ body: "b" });
    logger.emit({ body: "c" });
    assert.equal(
      exporter.calls.length,
      1,
      "later records wait behind the export in flight",
    );
    gates[0].resolve({ code: "success" });
    await settle();
    assert.equal(exporter.calls.length, 2);
    gates[1].resolve({ code: "success" });
    gates[2].resolve({ code: "success" });
    await processor.forceFlush();
    assert.deepEqual(exporter.calls.map((b) => b.map((r) => r.body)), [["a"], [
      "b",
    ], ["c"]]);
    assert.equal(processor.stats.exported, 3);
  });

  it("counts failures", async () => {
    const exporter = new ScriptedExporter<LogRecordData>();
    exporter.script = () =>
      Promise.resolve({ code: "failure", retryable: false });
    const diagnostics = collect();
    const processor = new SimpleLogRecordProcessor(exporter, {
      diagnostics: diagnostics.sink,
    });
    const provider = new LoggerProvider({
      resource,
      processors: [processor],
      env: envOf({}),
    });
    provider.getLogger("t").emit({ body: "a" });
    await processor.forceFlush();
    assert.equal(processor.stats.failed, 1);
    assert.equal(diagnostics.seen.length, 1);
  });
});
