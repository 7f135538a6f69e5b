/**
 * The batching processors' counters as observable instruments, named as the
 * OpenTelemetry semantic conventions name the SDK's own metrics
 * (`otel.sdk.processor.{log,span}.queue.size` and `.processed`).
 *
 * @module
 */

import type { BatchProcessorStats } from "../exporting_processor.ts";
import type { Meter } from "./meter.ts";

/**
 * Anything with batch-processor counters: `BatchLogRecordProcessor`,
 * `BatchSpanProcessor`.
 *
 * @example
 * ```ts
 * import { BatchLogRecordProcessor, InMemoryExporter } from "@seed/telemetry";
 * import type { ObservedProcessor } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const processor: ObservedProcessor = new BatchLogRecordProcessor(new InMemoryExporter());
 * assert.equal(processor.stats.queued, 0);
 * ```
 */
export interface ObservedProcessor {
  /** The processor's counters, as of now. */
  readonly stats: BatchProcessorStats;
}

/**
 * Registers observable instruments on `meter` that report a batching
 * processor's counters at each collection:
 * `otel.sdk.processor.<signal>.queue.size` (an up-down counter: items
 * queued now) and `otel.sdk.processor.<signal>.processed` (a counter: items
 * exported, and with `error.type` `dropped`, `failed` or `rejected` the
 * items lost each way).
 *
 * @param meter Where the instruments are created.
 * @param processor The processor to observe.
 * @param signal `"log"` for a log processor, `"span"` for a span processor.
 * @param attributes Attributes that tell processors apart (e.g.
 * `{ "otel.component.name": "batching_log_processor/0" }`).
 *
 * @example
 * ```ts
 * import { BatchLogRecordProcessor, InMemoryExporter, LoggerProvider } from "@seed/telemetry";
 * import { findMetric, ManualMetricReader, MeterProvider, numberPoints, observeBatchProcessor } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const processor = new BatchLogRecordProcessor(new InMemoryExporter());
 * await using logs = new LoggerProvider({ processors: [processor] });
 * const reader = new ManualMetricReader();
 * const metrics = new MeterProvider({ readers: [reader] });
 * observeBatchProcessor(metrics.getMeter("@seed/telemetry"), processor, "log");
 * logs.getLogger("app").emit({ body: "queued" });
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(findMetric(resourceMetrics, "otel.sdk.processor.log.queue.size"))[0].value, 1);
 * ```
 */
export function observeBatchProcessor(
  meter: Meter,
  processor: ObservedProcessor,
  signal: "log" | "span",
  attributes: Readonly<Record<string, string>> = {},
): void {
  const prefix = `otel.sdk.processor.${signal}`;
  const queue = meter.createObservableUpDownCounter(`${prefix}.queue.size`, {
    unit: `{${signal}}`,
    description: "Items in the processor's queue",
    valueType: "int",
  });
  const processed = meter.createObservableCounter(`${prefix}.processed`, {
    unit: `{${signal}}`,
    description:
      "Items the processor handed on (exported) or lost (error.type: dropped, failed, rejected)",
    valueType: "int",
  });
  const dropped = { ...attributes, "error.type": "dropped" };
  const failed = { ...attributes, "error.type": "failed" };
  const rejected = { ...attributes, "error.type": "rejected" };
  meter.addBatchObservableCallback((result) => {
    const s = processor.stats;
    result.observe(queue, s.queued, attributes);
    result.observe(processed, s.exported - s.rejected, attributes);
    result.observe(processed, s.dropped, dropped);
    result.observe(processed, s.failed, failed);
    result.observe(processed, s.rejected, rejected);
  }, [queue, processed]);
}
