// Every drop is visible, and the counters of one stats object add up: a
// user who reads one processor's stats can account for every call made to
// it. Also: what providers refuse (after shutdown, not a record) is counted
// where a user reads it.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BatchLogRecordProcessor,
  type BatchProcessorStats,
  type Exporter,
  type ExportResult,
  LogEmitContext,
  LoggerProvider,
  type LogRecord,
  type LogRecordData,
  Resource,
  TracerProvider,
} from "../../mod.ts";
import { UserEventsProcessor } from "../../processors/user_events/mod.ts";
import { EtwProcessor } from "../../processors/etw/mod.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { trappedProxy } from "./_hostile.ts";

const quiet = () => {};
const context = new LogEmitContext(new Resource({}), { name: "s" });

/** Records that reach a processor: good, bad severities, not records at all. */
function mixedRecords(): unknown[] {
  return [
    { severityNumber: 9, body: "ok" },
    { severityNumber: "17", body: "string severity" },
    { severityNumber: 17.5 },
    { severityNumber: 99 },
    {},
    null,
    undefined,
    42,
    trappedProxy(),
    { severityNumber: 21, body: "fatal" },
  ];
}

/** Fails every other export. */
class FlakyExporter implements Exporter<LogRecordData> {
  calls = 0;
  export(batch: readonly LogRecordData[]): Promise<ExportResult> {
    return Promise.resolve(
      this.calls++ % 2 === 0
        ? { code: "success", rejected: batch.length > 1 ? 1 : 0 }
        : { code: "failure", retryable: false },
    );
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function assertBatchEquation(stats: BatchProcessorStats, offered: number) {
  assert.equal(stats.inFlight, 0);
  assert.equal(
    stats.invalid + stats.dropped + stats.accepted,
    offered,
    `offered ${offered}: ${JSON.stringify(stats)}`,
  );
  assert.equal(
    stats.exported + stats.failed + stats.queued,
    stats.accepted,
    JSON.stringify(stats),
  );
}

describe("counters add up per stats object", () => {
  it("batch processor: offered = invalid + dropped + accepted; accepted = exported + failed + queued", async () => {
    const processor = new BatchLogRecordProcessor(new FlakyExporter(), {
      maxQueueSize: 4,
      maxExportBatchSize: 2,
      scheduledDelayMillis: 60_000,
      diagnostics: quiet,
    });
    let offered = 0;
    for (let round = 0; round < 3; round++) {
      for (const r of mixedRecords()) {
        processor.onEmit(r as LogRecord, context);
        offered++;
      }
      await processor.forceFlush();
      assertBatchEquation(processor.stats, offered);
    }
    assert.equal(processor.stats.invalid, 3 * 3); // null, undefined, 42
    assert.ok(processor.stats.dropped > 0);
    assert.ok(processor.stats.failed > 0);
    await processor.shutdown();
    for (const r of mixedRecords()) {
      processor.onEmit(r as LogRecord, context);
      offered++;
    }
    assertBatchEquation(processor.stats, offered);
    assert.equal(processor.stats.droppedAfterShutdown, 7); // the invalid 3 stay invalid
  });

  it("user_events: emitted = every onEmit call = notEnabled + written + each dropped*", () => {
    const fake = new FakeLibc();
    const processor = new UserEventsProcessor(fake, {
      providerName: "count",
      userEventsDataPath: "/fake",
      diagnostics: quiet,
    });
    fake.enable("count_L4K1"); // INFO only
    fake.enable("count_L1K1"); // and FATAL
    const records = mixedRecords();
    for (const r of records) processor.onEmit(r as LogRecord, context);
    const s = processor.stats;
    assert.equal(s.emitted, records.length);
    assert.equal(
      s.notEnabled + s.written + s.droppedNoSeverity + s.droppedNoListener +
        s.droppedTooLarge + s.droppedWriteError + s.droppedEncodeError,
      records.length,
    );
    assert.equal(s.written, 2); // INFO and FATAL
    // "17" (a string) is not routed to the ERROR tracepoint: no severity.
    assert.equal(fake.writes.length, 2);
    assert.deepEqual(
      fake.writes.map((w) => fake.nameOfIndex(w.index)),
      ["count_L4K1", "count_L1K1"],
    );
    assert.equal(s.droppedNoSeverity, 8);
    assert.equal(processor.enabled("17" as never), false);
  });

  it("ETW: every onEmit call lands in exactly one outcome counter", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const processor = new EtwProcessor(fake, {
      providerName: "Count",
      diagnostics: quiet,
    });
    const records = mixedRecords();
    for (const r of records) processor.onEmit(r as LogRecord, context);
    processor[Symbol.dispose]();
    processor.onEmit({ severityNumber: 9 }, context);
    const s = processor.stats;
    assert.equal(
      s.written + s.notEnabled + s.writeErrors + s.oversize + s.encodeErrors +
        s.afterShutdown + s.unsupported + s.invalidRecords,
      records.length + 1,
    );
    assert.equal(s.invalidRecords, 4); // null, undefined, 42, the Proxy
    assert.equal(s.afterShutdown, 1);
  });

  it("providers count what they refuse before any processor", async () => {
    const logs = new LoggerProvider({
      resource: new Resource({}),
      diagnostics: quiet,
    });
    const logger = logs.getLogger("l");
    logger.emit(null as never);
    logger.emit(5 as never);
    await logs.shutdown();
    logger.emit({ body: "late" });
    logger.emit({ body: "late" });
    assert.equal(logs.stats.invalidRecords, 2);
    assert.equal(logs.stats.recordsAfterShutdown, 2);
    logs.getLogger({ toString: () => "x" } as never, 5 as never);
    assert.equal(logs.stats.apiErrors, 1);

    const traces = new TracerProvider({
      resource: new Resource({}),
      diagnostics: quiet,
    });
    const tracer = traces.getTracer("t");
    const open = tracer.startSpan("open");
    await traces.shutdown();
    open.end();
    tracer.startSpan("late").end();
    assert.equal(traces.stats.spansEndedAfterShutdown, 2);
    assert.equal(traces.stats.spansEnded, 2);
  });
});
