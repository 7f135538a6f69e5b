/**
 * Batching processors: the bridge from the synchronous hot path to an
 * asynchronous {@linkcode Exporter}. `onEmit` / `onEnd` put the item into a
 * preallocated ring and return; a timer (armed only while items wait, and
 * never keeping the process alive) or a full batch starts an export.
 *
 * @module
 */

import { type BatchScheduler, realScheduler } from "./_batcher.ts";
import { ExportingProcessor } from "./exporting_processor.ts";
import { consoleDiagnosticSink, type DiagnosticSink } from "./diagnostics.ts";
import { type EnvReadOptions, readBatchEnv } from "./env.ts";
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
 * Options of the batching processors. Each unset field falls back to its
 * environment variable (`OTEL_BLRP_*` for logs, `OTEL_BSP_*` for spans),
 * then to the default.
 *
 * @example
 * ```ts
 * import type { BatchProcessorOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: BatchProcessorOptions = { maxQueueSize: 4096, scheduledDelayMillis: 500 };
 * assert.equal(options.maxQueueSize, 4096);
 * ```
 */
export interface BatchProcessorOptions extends EnvReadOptions {
  /**
   * The most items waiting; beyond it new items are dropped and counted.
   * @default {2048}
   */
  readonly maxQueueSize?: number;
  /**
   * The most items in one export; must not exceed `maxQueueSize`.
   * @default {512}
   */
  readonly maxExportBatchSize?: number;
  /**
   * How long an item may wait before a partial batch is exported, in ms.
   * @default {1000 for logs, 5000 for spans}
   */
  readonly scheduledDelayMillis?: number;
  /**
   * How long one export may take before it is aborted and counted as failed, in ms.
   * @default {30000}
   */
  readonly exportTimeoutMillis?: number;
  /**
   * The most exports in flight at once. The specification never calls an
   * exporter's `export` while a call is running, but lets the export task
   * run concurrently once the call has returned its Promise; an exporter that
   * sends batches concurrently says how many by its own
   * `maxConcurrentExports` (the OTLP exporters: 4), and by default the
   * processor uses that.
   * @default {the exporter's maxConcurrentExports, else 1}
   */
  readonly maxConcurrentExports?: number;
  /**
   * How long `forceFlush()` waits, in ms. What is not done by then stays
   * queued or in flight, is reported once, and is exported later.
   * @default {30000}
   */
  readonly forceFlushTimeoutMillis?: number;
  /**
   * How long `shutdown()` may take, in ms, however much is queued (the
   * exporter's own shutdown included). At the deadline the exports in
   * flight are aborted and counted as failed, and what is still queued is
   * dropped and counted in `dropped` and `droppedOnShutdownTimeout`, with
   * one diagnostic for both.
   * @default {30000}
   */
  readonly shutdownTimeoutMillis?: number;
  /**
   * Where export failures, drops and bad environment values are reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
  /**
   * The timer seam (tests pass a fake); timers must not keep the process alive.
   * @default {node:timers, unref'd}
   */
  readonly scheduler?: BatchScheduler;
}

interface ResolvedBatchConfig {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  maxConcurrentExports: number;
}

function positiveInteger(
  source: string,
  name: string,
  value: number,
  min: number,
): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot create ${source} with ${name} ${value}: expected an integer >= ${min}`,
    );
  }
  return value;
}

/**
 * What an exporter says it accepts in flight (`maxConcurrentExports`, a
 * positive integer); 1 when it says nothing usable or reading it throws.
 */
function exporterConcurrency(exporter: unknown): number {
  try {
    const n = (exporter as { maxConcurrentExports?: unknown })
      ?.maxConcurrentExports;
    return typeof n === "number" && Number.isSafeInteger(n) && n >= 1 ? n : 1;
  } catch {
    return 1;
  }
}

/** Resolves options, environment and defaults; throws on bad options. */
export function resolveBatchConfig(
  source: string,
  signal: "logs" | "traces",
  options: BatchProcessorOptions,
  exporter?: unknown,
): ResolvedBatchConfig {
  const env = readBatchEnv(signal, {
    env: options.env,
    diagnostics: options.diagnostics,
  });
  const config = {
    maxQueueSize: positiveInteger(
      source,
      "maxQueueSize",
      options.maxQueueSize ?? env.maxQueueSize ?? 2048,
      1,
    ),
    maxExportBatchSize: positiveInteger(
      source,
      "maxExportBatchSize",
      options.maxExportBatchSize ?? env.maxExportBatchSize ?? 512,
      1,
    ),
    scheduledDelayMillis: positiveInteger(
      source,
      "scheduledDelayMillis",
      options.scheduledDelayMillis ?? env.scheduledDelayMillis ??
        (signal === "logs" ? 1000 : 5000),
      0,
    ),
    exportTimeoutMillis: positiveInteger(
      source,
      "exportTimeoutMillis",
      options.exportTimeoutMillis ?? env.exportTimeoutMillis ?? 30000,
      1,
    ),
    maxConcurrentExports: positiveInteger(
      source,
      "maxConcurrentExports",
      options.maxConcurrentExports ?? exporterConcurrency(exporter),
      1,
    ),
  };
  if (config.maxExportBatchSize > config.maxQueueSize) {
    if (
      options.maxExportBatchSize !== undefined &&
      options.maxQueueSize !== undefined
    ) {
      throw new RangeError(
        `Cannot create ${source} with maxExportBatchSize ${config.maxExportBatchSize} > maxQueueSize ${config.maxQueueSize}: lower maxExportBatchSize or raise maxQueueSize`,
      );
    }
    // One of the two came from the environment or a default; the specification
    // says the batch size then follows the queue size.
    config.maxExportBatchSize = config.maxQueueSize;
  }
  return config;
}

/**
 * Batches log records for an exporter. `onEmit` resolves the record (see
 * `toLogRecordData`) and queues it; it never blocks, throws or allocates a
 * Promise, and when the queue is full it drops the record and counts it.
 *
 * @example Emit, flush, read the counters
 * ```ts
 * import { BatchLogRecordProcessor, InMemoryExporter, LoggerProvider, type LogRecordData } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * const processor = new BatchLogRecordProcessor(exporter, { scheduledDelayMillis: 50 });
 * await using provider = new LoggerProvider({ processors: [processor] });
 * provider.getLogger("example").emit({ body: "hello", severityNumber: 9 });
 * await processor.forceFlush();
 * assert.equal(exporter.items[0].body, "hello");
 * assert.equal(processor.stats.exported, 1);
 * ```
 */
export class BatchLogRecordProcessor extends ExportingProcessor<LogRecordData>
  implements LogRecordProcessor {
  /**
   * Creates the processor.
   *
   * @param exporter Where batches go.
   * @param options Queue and batch sizes, delays, seams.
   * @throws {RangeError} When an option is out of range, or the batch size exceeds the queue size.
   */
  constructor(
    exporter: Exporter<LogRecordData>,
    options: BatchProcessorOptions = {},
  ) {
    const source = "BatchLogRecordProcessor";
    super(source, exporter, {
      ...resolveBatchConfig(source, "logs", options, exporter),
      exportOnOffer: false,
      forceFlushTimeoutMillis: options.forceFlushTimeoutMillis,
      shutdownTimeoutMillis: options.shutdownTimeoutMillis,
      scheduler: options.scheduler ?? realScheduler,
      diagnostics: options.diagnostics ?? consoleDiagnosticSink,
    });
  }

  /**
   * Queues one record, or drops and counts it when the queue is full.
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
 * Batches ended spans for an exporter; only sampled spans are exported.
 * `onEnd` queues the span itself (it is immutable once ended), never blocks,
 * throws or allocates a Promise, and when the queue is full it drops the span
 * and counts it.
 *
 * @example
 * ```ts
 * import { BatchSpanProcessor, InMemoryExporter, type ReadableSpan, TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * const processor = new BatchSpanProcessor(exporter);
 * await using provider = new TracerProvider({ processors: [processor] });
 * provider.getTracer("example").startSpan("work").end();
 * await processor.forceFlush();
 * assert.equal(exporter.items[0].name, "work");
 * ```
 */
export class BatchSpanProcessor extends ExportingProcessor<ReadableSpan>
  implements SpanProcessor {
  /**
   * Creates the processor.
   *
   * @param exporter Where batches go.
   * @param options Queue and batch sizes, delays, seams.
   * @throws {RangeError} When an option is out of range, or the batch size exceeds the queue size.
   */
  constructor(
    exporter: Exporter<ReadableSpan>,
    options: BatchProcessorOptions = {},
  ) {
    const source = "BatchSpanProcessor";
    super(source, exporter, {
      ...resolveBatchConfig(source, "traces", options, exporter),
      exportOnOffer: false,
      forceFlushTimeoutMillis: options.forceFlushTimeoutMillis,
      shutdownTimeoutMillis: options.shutdownTimeoutMillis,
      scheduler: options.scheduler ?? realScheduler,
      diagnostics: options.diagnostics ?? consoleDiagnosticSink,
    });
  }

  /**
   * Queues one ended, sampled span, or drops and counts it when the queue is
   * full.
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

export type { BatchScheduler } from "./_batcher.ts";
export type { BatchProcessorStats } from "./exporting_processor.ts";
