/**
 * Simple processors: hand each record or span to the exporter as soon as it
 * arrives, one export at a time (later items wait in a bounded queue), and
 * count failures. For tests, debugging and exporters that are cheap; for the
 * network use the batching processors.
 *
 * @module
 */

import { type BatchScheduler, realScheduler } from "./_batcher.ts";
import {
  ExportingProcessor,
  type ExportingProcessorSettings,
} from "./exporting_processor.ts";
import { consoleDiagnosticSink, type DiagnosticSink } from "./diagnostics.ts";
import type { Exporter } from "./exporter.ts";
import {
  type LogEmitContext,
  type LogRecord,
  type LogRecordData,
  toLogRecordData,
} from "./logs/log_record.ts";
import type { LogRecordProcessor, SpanProcessor } from "./processor.ts";
import type { ReadableSpan } from "./trace/span.ts";
import { TRACE_FLAG_SAMPLED } from "./trace_context.ts";

/**
 * Options of the simple processors.
 *
 * @example
 * ```ts
 * import type { SimpleProcessorOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: SimpleProcessorOptions = { maxQueueSize: 100 };
 * assert.equal(options.maxQueueSize, 100);
 * ```
 */
export interface SimpleProcessorOptions {
  /**
   * The most items waiting while an export is in flight; beyond it new items
   * are dropped and counted.
   * @default {2048}
   */
  readonly maxQueueSize?: number;
  /**
   * How long one export may take before it is aborted and counted as failed, in ms.
   * @default {30000}
   */
  readonly exportTimeoutMillis?: number;
  /**
   * How long `forceFlush()` waits, in ms. What is not done by then stays
   * queued or in flight, is reported once, and is exported later.
   * @default {30000}
   */
  readonly forceFlushTimeoutMillis?: number;
  /**
   * How long `shutdown()` may take, in ms, however much is queued (the
   * exporter's own shutdown included). At the deadline the export in
   * flight is aborted and counted as failed, and what is still queued is
   * dropped and counted in `dropped` and `droppedOnShutdownTimeout`, with
   * one diagnostic for both.
   * @default {30000}
   */
  readonly shutdownTimeoutMillis?: number;
  /**
   * Where failures and drops are reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
  /**
   * The timer seam used for export timeouts.
   * @default {node:timers, unref'd}
   */
  readonly scheduler?: BatchScheduler;
}

function simpleSettings(
  source: string,
  options: SimpleProcessorOptions,
): ExportingProcessorSettings {
  const maxQueueSize = options.maxQueueSize ?? 2048;
  const exportTimeoutMillis = options.exportTimeoutMillis ?? 30000;
  if (!Number.isSafeInteger(maxQueueSize) || maxQueueSize < 1) {
    throw new RangeError(
      `Cannot create ${source} with maxQueueSize ${maxQueueSize}: expected an integer >= 1`,
    );
  }
  if (!Number.isSafeInteger(exportTimeoutMillis) || exportTimeoutMillis < 1) {
    throw new RangeError(
      `Cannot create ${source} with exportTimeoutMillis ${exportTimeoutMillis}: expected an integer >= 1`,
    );
  }
  return {
    maxQueueSize,
    maxExportBatchSize: 1,
    scheduledDelayMillis: 0,
    exportTimeoutMillis,
    maxConcurrentExports: 1,
    exportOnOffer: true,
    forceFlushTimeoutMillis: options.forceFlushTimeoutMillis,
    shutdownTimeoutMillis: options.shutdownTimeoutMillis,
    scheduler: options.scheduler ?? realScheduler,
    diagnostics: options.diagnostics ?? consoleDiagnosticSink,
  };
}

/**
 * Exports each log record on its own, in order, one export at a time.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, LoggerProvider, type LogRecordData, SimpleLogRecordProcessor } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * await using provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter)] });
 * provider.getLogger("example").emit({ body: "one" });
 * await provider.forceFlush();
 * assert.equal(exporter.items.length, 1);
 * ```
 */
export class SimpleLogRecordProcessor extends ExportingProcessor<LogRecordData>
  implements LogRecordProcessor {
  /**
   * Creates the processor.
   *
   * @param exporter Where records go.
   * @param options Queue size, timeout, seams.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(
    exporter: Exporter<LogRecordData>,
    options: SimpleProcessorOptions = {},
  ) {
    const source = "SimpleLogRecordProcessor";
    super(source, exporter, simpleSettings(source, options));
  }

  /**
   * Starts exporting the record, or queues it behind the export in flight.
   *
   * @param record The record as emitted.
   * @param context The emitting logger's context.
   */
  onEmit(record: LogRecord, context: LogEmitContext): void {
    if (record === null || typeof record !== "object") {
      this.countInvalid();
      return;
    }
    // toLogRecordData never throws: unreadable fields are left out.
    if (this.accepting()) this.enqueue(toLogRecordData(record, context));
  }
}

/**
 * Exports each ended, sampled span on its own, in order, one export at a
 * time.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using provider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * provider.getTracer("example").startSpan("a").end();
 * await provider.forceFlush();
 * assert.equal(exporter.items[0].name, "a");
 * ```
 */
export class SimpleSpanProcessor extends ExportingProcessor<ReadableSpan>
  implements SpanProcessor {
  /**
   * Creates the processor.
   *
   * @param exporter Where spans go.
   * @param options Queue size, timeout, seams.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(
    exporter: Exporter<ReadableSpan>,
    options: SimpleProcessorOptions = {},
  ) {
    const source = "SimpleSpanProcessor";
    super(source, exporter, simpleSettings(source, options));
  }

  /**
   * Starts exporting the span, or queues it behind the export in flight.
   *
   * @param span The ended span.
   */
  onEnd(span: ReadableSpan): void {
    let flags: unknown;
    try {
      flags = span.traceFlags;
    } catch {
      flags = undefined; // null, or a span whose reading throws
    }
    if (typeof flags !== "number") {
      this.countInvalid();
      return;
    }
    if ((flags & TRACE_FLAG_SAMPLED) === 0) return;
    if (this.accepting()) this.enqueue(span);
  }
}
