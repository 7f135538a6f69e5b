/**
 * Simple processors: hand each record or span to the exporter as soon as it
 * arrives, one export at a time (later items wait in a bounded queue), and
 * count failures. For tests, debugging and exporters that are cheap; for the
 * network use the batching processors.
 *
 * @module
 */

import { Batcher, type BatchScheduler, realScheduler } from "./_batcher.ts";
import type { BatchProcessorStats } from "./batch_processor.ts";
import { consoleDiagnosticSink, type DiagnosticSink } from "./diagnostics.ts";
import type { Exporter } from "./exporter.ts";
import {
  type LogEmitContext,
  type LogRecord,
  type LogRecordData,
  toLogRecordData,
} from "./log_record.ts";
import type { LogRecordProcessor, SpanProcessor } from "./processor.ts";
import type { ReadableSpan } from "./span.ts";
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

function makeBatcher<T>(
  source: string,
  exporter: Exporter<T>,
  options: SimpleProcessorOptions,
): Batcher<T> {
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
  return new Batcher({
    source,
    exporter,
    maxQueueSize,
    maxExportBatchSize: 1,
    scheduledDelayMillis: 0,
    exportTimeoutMillis,
    maxConcurrentExports: 1,
    exportOnOffer: true,
    scheduler: options.scheduler ?? realScheduler,
    diagnostics: options.diagnostics ?? consoleDiagnosticSink,
  });
}

function statsOf(batcher: Batcher<unknown>): BatchProcessorStats {
  const c = batcher.counters;
  return { ...c, queued: batcher.queued, inFlight: batcher.inFlight };
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
export class SimpleLogRecordProcessor implements LogRecordProcessor {
  #batcher: Batcher<LogRecordData>;

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
    this.#batcher = makeBatcher("SimpleLogRecordProcessor", exporter, options);
  }

  /** The counters, as of now. */
  get stats(): BatchProcessorStats {
    return statsOf(this.#batcher);
  }

  /**
   * Starts exporting the record, or queues it behind the export in flight.
   *
   * @param record The record as emitted.
   * @param context The emitting logger's context.
   */
  onEmit(record: LogRecord, context: LogEmitContext): void {
    const batcher = this.#batcher;
    if (batcher.wouldDrop()) {
      batcher.countDrop();
      return;
    }
    batcher.offer(toLogRecordData(record, context));
  }

  /**
   * Waits until every record emitted before the call is exported.
   *
   * @returns Resolves when done.
   */
  forceFlush(): Promise<void> {
    return this.#batcher.flush();
  }

  /**
   * Refuses new records, finishes the queued ones, shuts the exporter down.
   *
   * @returns Resolves when done.
   */
  shutdown(): Promise<void> {
    return this.#batcher.shutdown();
  }

  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
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
export class SimpleSpanProcessor implements SpanProcessor {
  #batcher: Batcher<ReadableSpan>;

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
    this.#batcher = makeBatcher("SimpleSpanProcessor", exporter, options);
  }

  /** The counters, as of now. */
  get stats(): BatchProcessorStats {
    return statsOf(this.#batcher);
  }

  /**
   * Starts exporting the span, or queues it behind the export in flight.
   *
   * @param span The ended span.
   */
  onEnd(span: ReadableSpan): void {
    if ((span.traceFlags & TRACE_FLAG_SAMPLED) === 0) return;
    this.#batcher.offer(span);
  }

  /**
   * Waits until every span ended before the call is exported.
   *
   * @returns Resolves when done.
   */
  forceFlush(): Promise<void> {
    return this.#batcher.flush();
  }

  /**
   * Refuses new spans, finishes the queued ones, shuts the exporter down.
   *
   * @returns Resolves when done.
   */
  shutdown(): Promise<void> {
    return this.#batcher.shutdown();
  }

  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
